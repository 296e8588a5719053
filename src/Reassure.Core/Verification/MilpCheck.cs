using Google.OrTools.LinearSolver;
using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// The exact check of one unsafe conjunction on a box as a mixed-integer feasibility problem (issue 21; the
/// formulation of Tjeng et al., MIPVerify, with the big-M constants taken from sound neuron bounds):
/// <code>
///   x in box;  z_k = W_k a_{k-1} + b_k;  a_k = z_k (L &gt;= 0), 0 (U &lt;= 0), else
///   a &gt;= 0, a &gt;= z, a &lt;= z - L (1 - d), a &lt;= U d, d in {0, 1};   A (W_L a_{L-1} + b_L) &lt;= b + margin
/// </code>
/// solved by SCIP (OR-Tools). Infeasible proves that no x of the box reaches the conjunction (the margin, a relative
/// tolerance, makes the unsafe set slightly larger than stated) <b>up to SCIP's own tolerances</b>: SCIP works in floating
/// point with its feasibility and integrality tolerances (1e-6 and 1e-6 by default) and its "infeasible" carries no
/// certificate that is re-checked here, so a "holds" decided by this check trusts SCIP as the GLOP stops of the region
/// LPs trust GLOP (no exact re-check; the margin only absorbs errors smaller than itself). A feasible point is only a
/// candidate: the caller confirms it with the plain evaluator. Used where input splitting cannot work (many inputs).
/// </summary>
internal static class MilpCheck
{
    /// <summary>Outcome: <c>Infeasible</c> (proved safe), a candidate point, or neither (time limit or solver trouble).</summary>
    public readonly record struct Result(bool Infeasible, double[]? Candidate, string Status);

    /// <summary>Whether SCIP is there (the OR-Tools build carries it).</summary>
    public static bool Available => LazyAvailable.Value;

    private static readonly Lazy<bool> LazyAvailable = new(() =>
    {
        using var s = Solver.CreateSolver("SCIP");
        return s is not null;
    });

    /// <summary>Checks <paramref name="conj"/> on the box; <paramref name="stop"/> interrupts the solver (the answer is then neither).</summary>
    public static Result Check(Network net, InputBox box, NeuronBounds bounds, OutputConjunction conj, double margin, TimeSpan limit, CancellationToken stop = default, bool log = false)
    {
        using var solver = Solver.CreateSolver("SCIP");
        if (solver is null) return new Result(false, null, "SCIP not available");
        if (log) solver.EnableOutput();
        solver.SetTimeLimit((long)Math.Max(1, limit.TotalMilliseconds));
        var layers = net.Layers;
        int n = net.InputSize;
        var x = new Variable[n];
        for (int i = 0; i < n; i++) x[i] = solver.MakeNumVar(box.Lower[i], box.Upper[i], "");
        // a[k]: the variables of layer k's input (x for k = 0); null where the value is the constant 0
        Variable?[] a = x;
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            bool hidden = l < layers.Count - 1;
            int off = hidden ? net.HiddenOffsets[l] : 0, inW = layer.Inputs;
            var next = new Variable?[layer.Outputs];
            var cols = new int[layer.Map.MaxRowEntries];
            var ws = new double[layer.Map.MaxRowEntries];
            for (int j = 0; j < layer.Outputs; j++)
            {
                double lo = hidden ? bounds.Lower[off + j] : double.NegativeInfinity, hi = hidden ? bounds.Upper[off + j] : double.PositiveInfinity;
                if (hidden && hi <= 0) continue;
                var z = solver.MakeNumVar(hidden ? lo : double.NegativeInfinity, hidden ? hi : double.PositiveInfinity, "");
                var def = solver.MakeConstraint(layer.Bias[j], layer.Bias[j], "");
                def.SetCoefficient(z, 1);
                int count = layer.Map.RowEntries(j, cols, ws);
                for (int e = 0; e < count; e++)
                {
                    var v = a[cols[e]];
                    if (v is not null && ws[e] != 0) def.SetCoefficient(v, -ws[e]);
                }
                if (!hidden || lo >= 0) { next[j] = z; continue; }
                var y = solver.MakeNumVar(0, hi, "");
                var d = solver.MakeIntVar(0, 1, "");
                var c1 = solver.MakeConstraint(0, double.PositiveInfinity, ""); // y - z >= 0
                c1.SetCoefficient(y, 1); c1.SetCoefficient(z, -1);
                var c2 = solver.MakeConstraint(double.NegativeInfinity, -lo, ""); // y - z - lo d <= -lo
                c2.SetCoefficient(y, 1); c2.SetCoefficient(z, -1); c2.SetCoefficient(d, -lo);
                var c3 = solver.MakeConstraint(double.NegativeInfinity, 0, ""); // y - hi d <= 0
                c3.SetCoefficient(y, 1); c3.SetCoefficient(d, -hi);
                next[j] = y;
            }
            a = next;
        }
        foreach (var r in conj.Constraints)
        {
            var c = solver.MakeConstraint(double.NegativeInfinity, r.B + margin, "");
            for (int o = 0; o < r.A.Length; o++) if (r.A[o] != 0 && a[o] is { } v) c.SetCoefficient(v, r.A[o]);
        }
        solver.Objective().SetMinimization();
        Solver.ResultStatus status;
        using (stop.Register(() => solver.InterruptSolve()))
        {
            if (stop.IsCancellationRequested) return new Result(false, null, "interrupted");
            status = solver.Solve();
        }
        if (stop.IsCancellationRequested) return new Result(false, null, "interrupted");
        if (status == Solver.ResultStatus.INFEASIBLE) return new Result(true, null, "infeasible");
        if (status is Solver.ResultStatus.OPTIMAL or Solver.ResultStatus.FEASIBLE)
        {
            var xs = new double[n];
            for (int i = 0; i < n; i++) xs[i] = Math.Clamp(x[i].SolutionValue(), box.Lower[i], box.Upper[i]);
            return new Result(false, xs, "feasible");
        }
        return new Result(false, null, status.ToString());
    }
}
