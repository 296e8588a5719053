using Google.OrTools.LinearSolver;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>Which solver answers a polytope LP (<see cref="LpBackend.Polytope"/>).</summary>
internal enum LpBackendKind
{
    /// <summary>OR-Tools GLOP (<see cref="PolytopeLp"/>): any box, the default everywhere.</summary>
    Glop,

    /// <summary>
    /// The input-space dual simplex (<see cref="SimplexPolytopeLp"/>) where it applies (a finite box and at least one row),
    /// its optimum kept only when its multipliers bound it by weak duality; GLOP otherwise.
    /// </summary>
    InputSimplex,
}

/// <summary>
/// The one place the LP backends are made (issue 21): GLOP solvers for every model built on OR-Tools' linear solver
/// (<see cref="RegionLp"/>'s two forms, <see cref="PolytopeLp"/>, the minimal patch LP), and the polytope LPs by
/// <see cref="LpBackendKind"/>. The verifier's own GLOP and SCIP models (Verification) are not behind it yet.
/// </summary>
internal static class LpBackend
{
    /// <summary>A new GLOP solver (the caller disposes it).</summary>
    public static Solver CreateGlop() =>
        Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available.");

    /// <summary>
    /// The LP max c . x + c0 over { x in <paramref name="box"/> : a_r . x &lt;= b_r } answered by <paramref name="kind"/>
    /// (GLOP when the input-space simplex does not apply: an infinite bound or no row).
    /// </summary>
    public static IPolytopeLp Polytope(IReadOnlyList<HalfSpace> rows, InputBox box, LpBackendKind kind = LpBackendKind.Glop) =>
        kind == LpBackendKind.InputSimplex && SimplexPolytopeLp.Applies(rows, box)
            ? new SimplexPolytopeLp(rows, box)
            : new PolytopeLp(rows, box);
}
