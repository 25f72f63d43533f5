"""Pure torch maths of the four papers; no OpenMMLab imports.

Curves: ``monotone_params`` (search mapping), ``piecewise_linear``, ``piecewise_bezier``,
``monotone_function`` (the g / f of ASL and PAP). Import submodules directly.
"""
