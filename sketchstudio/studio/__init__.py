"""The SketchStudio window: the only package that imports Qt (PySide6, pyqtgraph).

    app.py          `main(argv)`: the command line, --screenshot
    main_window.py  the window: composes the studio and connects it (docs/architecture.md)
    state.py        StudioState: the one owner of model, method, live, target, objective, heat
    explain_controller.py, model_controller.py, file_controller.py, task_runner.py
                    the controllers: explanation jobs, models, files, long tools
    actions.py      every command in one table; menus and tool bars built from it
    status_bar.py, model_box.py, window_layout.py
                    the status bar, the tool bar's model box, the docks and saved geometry
    canvas.py       QGraphicsView of the document's strokes, coloured by the heat map; built on
                    canvas_view.py (page, zoom, pan), canvas_input.py (tools, tablet, hover,
                    drops), stroke_item.py (one stroke) and page.py (the page and its hint)
    tools.py        pen, stroke eraser, select/move, pan (`register_tool` for more)
    panels.py       the TaskPanel base and the Classify panel (methods from the explain registry)
    panel_list.py   the task panels, in tab order: the one list the window builds tabs from
    file_filters.py file-dialog filters, built from the file-format registry
    document.py     the immutable Sketch snapshot behind a QUndoStack
    worker.py       the background thread that loads models and explains (latest wins)
    heat.py         stroke colours from an Attribution (the engine's colour map)
    plots.py        top-k probabilities, deletion curve (pyqtgraph); colour_bar.py the heat
                    scale; plot_style.py their shared look
    numbers.py      how strokes (from 1) and numbers are written, everywhere in the studio
    model_manager.py the Models dialog; model_details.py its details pane; add_model.py and
                    card_form.py adding a model; model_trust.py the question before an
                    outside model (the decision is models/trust.py)
    autosave.py     the crash journal (Autosaver); journal_files.py, journal_writer.py and
                    recovery.py its files, writer thread and restore at launch
    browser.py, settings.py, icons.py, background.py
"""
