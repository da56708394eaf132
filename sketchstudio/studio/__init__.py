"""The SketchStudio window: the only package that imports Qt (PySide6, pyqtgraph).

    app.py          `main(argv)`: the command line, --screenshot
    main_window.py  the window: tools, panels, plots, status bar, files, models
    canvas.py       QGraphicsView of the document's strokes; pointer input for the tools
    tools.py        pen, stroke eraser, select/move, pan (`register_tool` for more)
    panels.py       task panels in the right dock (`register_panel`; Classify first)
    document.py     the immutable Sketch snapshot behind a QUndoStack
    worker.py       the background thread that loads models and explains (latest wins)
    heat.py         stroke colours from an Attribution (the engine's colour map)
    plots.py        top-k probabilities, deletion curve, colour bar (pyqtgraph)
    model_manager.py, browser.py, settings.py, icons.py, background.py
"""
