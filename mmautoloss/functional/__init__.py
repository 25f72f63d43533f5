"""Pure torch maths of the papers' equations; no OpenMMLab imports. Import submodules directly.

Curves (ASL eq. 10-13, PAP eq. 7-8): ``monotone_params`` (search mapping),
``piecewise_linear``, ``piecewise_bezier``, ``curve_gradient`` (their shared backward) and
``monotone_function`` (the g of ASL and the f of PAP).
Auto Seg-Loss: ``soft_logic`` (eq. 8-9), ``boundary`` (Table 1 eq. 5-6 boundary maps) and
``seg_surrogates`` (the six metric surrogates of Table 1).
Parameterized AP Loss: ``ap_surrogate`` (eq. 6), ``localization_quality`` (eq. 4, Table 5)
and ``grad_scale`` (section 3.2).
"""
