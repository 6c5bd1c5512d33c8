"""Penalty contact with elastic-plastic (stick-slip) friction, as Taichi functions.

Normal force on a gel node at signed distance phi < 0 from the indenter surface, with
lumped surface area A, unit outward normal n and normal relative velocity v_n:

    f_n = max(A (-kn phi - kd v_n), 0)

Friction is a tangential spring from the node to an anchor fixed in the indenter's frame,
capped by Coulomb: f_t = -kt A u_t with u_t the tangential part of (node - anchor); when
|f_t| > mu f_n the anchor is dragged along (slip) so that |f_t| = mu f_n exactly. A node
leaving contact forgets its anchor. Below the cap the node sticks: a constant tangential
load gives a constant spring stretch, not a steady creep (unlike viscous friction).

Units: kn in Pa/m (pressure per metre of penetration), kd in Pa s/m, kt in Pa/m.
The force on the indenter is minus the sum of the node forces (Newton's third law holds
exactly because both are accumulated from the same per-node vector).
"""

from tacsuite.sim.backend import import_taichi

ti = import_taichi()


@ti.func
def penalty_friction(phi, n, rel_pos, rel_vel, anchor, stuck, area, kn, kd, kt, mu):
    """Returns (force on the node, new anchor, new stuck flag) for one contact candidate.

    rel_pos, rel_vel, anchor: node position/velocity relative to the indenter frame.
    """
    f = 0.0 * n
    a_new = rel_pos
    s_new = 0.0 * phi
    if phi < 0:
        vn = rel_vel.dot(n)
        fn = ti.max(area * (-kn * phi - kd * vn), 0.0)
        a = rel_pos
        if stuck > 0.5:
            a = anchor
        u = rel_pos - a
        ut = u - u.dot(n) * n
        ft = -kt * area * ut
        lim = mu * fn
        ft2 = ft.dot(ft)
        if ft2 > lim * lim:
            # 1e-30 keeps the reverse pass finite at zero stretch.
            scale = lim / ti.sqrt(ft2 + 1e-30)
            ft = ft * scale
            a = rel_pos - ut * scale
        f = fn * n + ft
        a_new = a
        s_new = 1.0 + 0.0 * phi
    return f, a_new, s_new


@ti.func
def tangential_part(v, n):
    """The part of v in the contact tangent plane of the unit normal n (friction acts there)."""
    return v - v.dot(n) * n


@ti.func
def coulomb_cap(ft, fn, mu):
    """Scale s in (0, 1] that brings the trial tangential force ft onto |f_t| <= mu fn.

    s = 1 while the node sticks; below 1 it slips and carries exactly mu fn along ft. Both
    the quasi-static return mapping and `penalty_friction` apply this cap.
    """
    lim = mu * ti.max(fn, 0.0)
    ft2 = ft.dot(ft)
    s = 1.0 + 0.0 * fn
    if ft2 > lim * lim:
        s = lim / ti.sqrt(ft2 + 1e-30)
    return s
