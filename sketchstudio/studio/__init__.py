"""The SketchStudio window: the only package that imports Qt (PySide6, pyqtgraph).

    app.py          `main(argv)`: the command line, --screenshot
    main_window.py  the window: tools, panels, plots, status bar, files, models
    canvas.py       QGraphicsView of the document's strokes; pointer input for the tools
    tools.py        pen, stroke eraser, select/move, pan (`register_tool` for more)
    panels.py       the TaskPanel base and the Classify panel (methods from the explain registry)
    panel_list.py   the task panels, in tab order: the one list the window builds tabs from
    file_filters.py file-dialog filters, built from the file-format registry
    document.py     the immutable Sketch snapshot behind a QUndoStack
    worker.py       the background thread that loads models and explains (latest wins)
    heat.py         stroke colours from an Attribution (the engine's colour map)
    plots.py        top-k probabilities, deletion curve, colour bar (pyqtgraph)
    model_manager.py, browser.py, settings.py, icons.py, background.py
"""
