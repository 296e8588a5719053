using Google.OrTools.LinearSolver;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// Linear programs over an explicit polytope { x in D : A x &lt;= b } (method.md §1 rows, the box as bounds).
/// A formulation independent of <see cref="RegionLp"/>: it is what the per-patch check uses, so that a fault in
/// one formulation cannot hide itself. The GLOP backend of the <see cref="IPolytopeLp"/> seam.
/// </summary>
public sealed class PolytopeLp : IDisposable, IPolytopeLp
{
    private readonly Solver _solver;
    private readonly Variable[] _x;

    /// <summary>Number of LPs solved.</summary>
    public int Solves { get; private set; }

    /// <summary>Builds the LP of the polytope with rows <paramref name="rows"/> inside <paramref name="box"/>.</summary>
    public PolytopeLp(IReadOnlyList<HalfSpace> rows, InputBox box, string? glopParameters = null)
    {
        _solver = LpBackend.CreateGlop();
        _solver.SetSolverSpecificParametersAsString(glopParameters ?? RegionLp.DefaultParameters);
        int n = box.Dimension;
        _x = new Variable[n];
        for (int i = 0; i < n; i++) _x[i] = _solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
        foreach (var r in rows)
        {
            var c = _solver.MakeConstraint(double.NegativeInfinity, r.B, "");
            for (int i = 0; i < n; i++) if (r.A[i] != 0) c.SetCoefficient(_x[i], r.A[i]);
        }
    }

    /// <summary>max of c . x + c0 over the polytope.</summary>
    public LpResult Maximize(ReadOnlySpan<double> c, double c0 = 0)
    {
        var objective = _solver.Objective();
        objective.Clear();
        for (int i = 0; i < c.Length; i++) if (c[i] != 0) objective.SetCoefficient(_x[i], c[i]);
        objective.SetMaximization();
        var status = _solver.Solve();
        Solves++;
        LpStatus.ThrowIfNotOptimal(status, "a polytope row");
        var x = new double[_x.Length];
        for (int i = 0; i < x.Length; i++) x[i] = _x[i].SolutionValue();
        return new LpResult(objective.Value() + c0, x);
    }

    /// <inheritdoc />
    public void Dispose() => _solver.Dispose();
}
