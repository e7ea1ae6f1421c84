"""Figures and HTML reports of sweeps (`tessera report DIR`) and of one simulation (`--report DIR`).

Entry points: `reports.sweep_report.sweep_report(folder, out_dir, formats, color_by)` and
`reports.simulation_report.simulation_report(simulation, out_dir, formats)` write every figure
as PDF/SVG/PNG in one house style (`reports.style`) and one self-contained `report.html`. The
figure builders (`reports.pareto_plots`, `reports.roofline`, ...) return matplotlib `Figure`
objects and can be used on their own.
"""
