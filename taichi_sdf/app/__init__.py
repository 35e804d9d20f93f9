"""The application layer: the ``taichi-sdf`` command, the demos' start-up and the training loops.

This is the only code that calls ``ti.init``, parses command lines or plots: the library
below it (scenes, rendering, fitting, files) takes its settings as arguments. Every
command is planned before it runs: a plan parses and checks everything that can be wrong
(inputs, every output path, sizes, options) without starting Taichi, so bad input ends
with one line on stderr and exit status 2 before any work starts. Outputs are written
whole or not at all, and an interruption (Ctrl-C) ends with one line saying what was
written.

Modules: :mod:`~taichi_sdf.app.start` (where commands start: their modules load with Ctrl-C
held; holding Ctrl-C back), :mod:`~taichi_sdf.app.running` (the guard around a command,
Taichi start-up), :mod:`~taichi_sdf.app.arguments` (option types and the fit's options),
:mod:`~taichi_sdf.app.outputs` (checked, whole, recorded output files),
:mod:`~taichi_sdf.app.fitting` (the fit command and the fitting demos),
:mod:`~taichi_sdf.app.fit_many` (the fit of a folder of pictures in worker processes),
:mod:`~taichi_sdf.app.ray_actors` (the same on Ray actors; needs the ``ray`` extra),
:mod:`~taichi_sdf.app.console` (the ``taichi-sdf`` command), :mod:`~taichi_sdf.app.training`
(the learning demos' loop, alone or under torchrun; needs the ``torch`` extra).
"""
