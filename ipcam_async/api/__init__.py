"""One module per CGI group of the spec; each holds an ``XxxApi`` class built with the Camera.

``params`` (param.cgi), ``users``, ``system``, ``storage``, ``image``, ``ptz``, ``io``, ``events``
and ``mjpeg``.  Reach them through the lazily created attributes of
:class:`~ipcam_async.camera.Camera` (``cam.params``, ``cam.ptz``...), not by importing them here:
importing a group module is deferred until its attribute is first used.
"""
