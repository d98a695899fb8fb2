"""The view: how the book shows the core's numbers (matplotlib, ipywidgets, IPython).

- :mod:`cnn6.view.display`: one matrix, a row of matrices, a whole trace, the pipeline, source
  code, matplotlib figures (its main names are also ``cnn6.show_matrix``, ``cnn6.fmt``, ...);
- :mod:`cnn6.view.animation`: windows sliding over a matrix, playable with no kernel;
- :mod:`cnn6.view.widgets`: the chapters' interactive explorers;
- :mod:`cnn6.view.kit`: what the three share (colours, the digits check, the max-pool's
  winners, the text-and-HTML view).

The view reads the core's public names only; the core never imports the view.
"""
