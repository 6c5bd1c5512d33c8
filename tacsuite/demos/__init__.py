"""Parts of the `tacsuite demo` tour; each module's `run(out_dir)` returns a summary dict.

Parts are listed in tour order; each writes its PNG into the demo folder.
"""

PARTS: dict[str, str] = {
    "river_swim": "tacsuite.demos.river_swim",
    "lsd": "tacsuite.demos.lsd",
    "robust": "tacsuite.demos.robust",
    "sim_press": "tacsuite.demos.sim_press",
    "stitching": "tacsuite.demos.stitching",
    "world_grasp": "tacsuite.demos.world_grasp",
    "objects": "tacsuite.demos.objects",
    "tactile_sysid": "tacsuite.demos.tactile_sysid",
}
