using System.Diagnostics;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// Proof of a VNN-LIB property on a network repaired with constant box patches (<see cref="Repair.BoxAreaRepairer"/>).
/// <para>
/// Structure checked first (otherwise the proof does not apply and null is returned): every patch is constant, its
/// support is an axis-aligned box B_l (explicit rows only, g_l = 1 exactly on B_l), and every difference d'_l of the
/// combination of method.md §5 is monotone for the unsafe set: a_{i,o} d'_{l,o} &gt;= 0 for every unsafe row i and
/// output o. Each combination term is then, output by output, a fraction in [0, 1] of d'_l (the soft threshold of
/// method.md §5 only shrinks it towards 0), and the full d'_l where G_l = 1. Hence for every x
/// <code>
///   a_i . h(x) &gt;= a_i . (f(x) + p_j)     for every j with x in B_j, and a_i . h(x) &gt;= a_i . f(x) everywhere,
/// </code>
/// (inside B_j every G_l, l &lt;= j, is 1 and the first j differences telescope to p_j; the rest only push away from U).
/// </para>
/// <para>
/// The proof is a branch and bound over the original network f on the canonical bisection
/// (<see cref="MonotoneShift.Split"/>): on a sub-box S, with s = p_j of the last patch whose box contains S (0 if none),
/// U_k is excluded when some row has (sound lower bound of a_i . f on S) + a_i . s &gt; b_i. Undecided boxes are split;
/// at the depth limit the box is handed to <see cref="PropertyVerifier"/> on f with the unsafe set shifted by s.
/// Centres and bound minimisers are evaluated on the repaired network itself, so "violated" comes with a point the
/// plain evaluator confirms.
/// </para>
/// </summary>
public static class MonotoneBoxProof
{
    /// <summary>Why the structure does not apply, or null when it does.</summary>
    public static string? Check(RepairedNetwork repaired, VnnLibProperty property)
    {
        if (repaired.Patches.Count == 0) return "no patches";
        var rows = property.Cases.SelectMany(c => c.Unsafe).SelectMany(k => k.Constraints).ToList();
        for (int l = 0; l < repaired.Patches.Count; l++)
        {
            var gp = repaired.Patches[l];
            if (gp.Patch.C is not null || gp.Difference.C is not null) return $"patch {l} is not constant";
            if (gp.Support.Pattern is not null) return $"patch {l} is gated by an activation pattern, not a box";
            if (SupportBox(gp.Support, repaired.Original.InputSize) is null) return $"patch {l}'s support rows are not an axis-aligned box";
            foreach (var row in rows)
                for (int o = 0; o < row.A.Length; o++)
                    if (row.A[o] * gp.Difference.D[o] < 0) return $"patch {l}'s difference moves output {o} towards the unsafe set";
        }
        return null;
    }

    /// <summary>The box of a support made of rows x_i &lt;= u and -x_i &lt;= -l for every input, or null.</summary>
    public static InputBox? SupportBox(Support support, int n)
    {
        var lo = Enumerable.Repeat(double.NaN, n).ToArray();
        var hi = Enumerable.Repeat(double.NaN, n).ToArray();
        foreach (var row in support.Rows)
        {
            int k = -1;
            for (int i = 0; i < row.A.Length; i++)
            {
                if (row.A[i] == 0) continue;
                if (k >= 0) return null;
                k = i;
            }
            if (k < 0) return null;
            if (row.A[k] == 1) hi[k] = double.IsNaN(hi[k]) ? row.B : Math.Min(hi[k], row.B);
            else if (row.A[k] == -1) lo[k] = double.IsNaN(lo[k]) ? -row.B : Math.Max(lo[k], -row.B);
            else return null;
        }
        if (lo.Any(double.IsNaN) || hi.Any(double.IsNaN)) return null;
        return new InputBox(lo, hi);
    }

    /// <summary>Proves or refutes the property on the repaired network; null when <see cref="Check"/> fails.</summary>
    /// <remarks>
    /// The sub-boxes are bounded on all cores (<see cref="VerificationOptions.MaxDegreeOfParallelism"/>; a shared stack,
    /// workers pop, bound and push the halves): every box is decided on its own, so "holds" does not depend on the order;
    /// a "violated" answer carries whichever confirmed point was found first. A box that strictly holds a patch's box is
    /// split without bounding it: its bound, with no shift, cannot exclude the violation the patch repairs.
    /// </remarks>
    public static VerificationResult? Verify(RepairedNetwork repaired, VnnLibProperty property, VerificationOptions? options = null, CancellationToken ct = default)
    {
        if (Check(repaired, property) is not null) return null;
        options ??= new VerificationOptions();
        var clock = Stopwatch.StartNew();
        var net = repaired.Original;
        int n = net.InputSize;
        var boxes = repaired.Patches.Select(p => SupportBox(p.Support, n)!).ToArray();
        int nodes = 0, regions = 0, lps = 0;
        string? budget = null;
        string detail = "";
        bool undecided = false;
        double[]? cex = null, cexY = null;
        var gate = new object();
        int threads = Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount);
        for (int c = 0; c < property.Cases.Count && cex is null && budget is null; c++)
        {
            var cs = property.Cases[c];
            var stack = new Stack<(InputBox Box, int Depth)>();
            stack.Push((cs.Box, 0));
            int busy = 0;
            void Worker()
            {
                while (true)
                {
                    InputBox box;
                    int depth;
                    lock (gate)
                    {
                        while (stack.Count == 0 && busy > 0 && cex is null && budget is null) Monitor.Wait(gate);
                        if (stack.Count == 0 || cex is not null || budget is not null) { Monitor.PulseAll(gate); return; }
                        if (options.MaxTime is TimeSpan t && clock.Elapsed > t) { budget = "seconds"; Monitor.PulseAll(gate); return; }
                        if (nodes >= options.MaxRegions) { budget = "boxes"; Monitor.PulseAll(gate); return; }
                        (box, depth) = stack.Pop();
                        nodes++;
                        busy++;
                    }
                    List<(InputBox, int)>? children = null;
                    try { children = Decide(box, depth); }
                    finally
                    {
                        lock (gate)
                        {
                            if (children is not null) foreach (var ch in children) stack.Push(ch);
                            busy--;
                            Monitor.PulseAll(gate);
                        }
                    }
                }
            }

            // Decides one sub-box: null when it is closed (proved, refuted or handed to the exact verifier), else its halves.
            List<(InputBox, int)>? Decide(InputBox box, int depth)
            {
                ct.ThrowIfCancellationRequested();
                var split = depth < options.MaxDepth ? MonotoneShift.Split(box, cs.Box) : null;
                if (split is { } early && HoldsPatchBox(boxes, box)) return [(early.High, depth + 1), (early.Low, depth + 1)];
                var shift = Shift(repaired, boxes, box);
                var bounds = LinearBounds.Compute(net, box);
                var candidates = new List<double[]> { box.Center() };
                bool proved = true;
                foreach (var conj in cs.Unsafe)
                {
                    bool excluded = false;
                    foreach (var row in conj.Constraints)
                    {
                        var (lb, lam, _) = LinearBounds.OutputLowerBound(net, box, bounds, row.A);
                        if (lb + Blas.Dot(row.A, shift) > row.B + PropertyVerifier.Tolerance * (1 + Math.Abs(row.B))) { excluded = true; break; }
                        candidates.Add(box.Minimizer(lam));
                    }
                    if (!excluded) { proved = false; break; }
                }
                if (proved) return null;
                foreach (var x in candidates)
                {
                    var y = repaired.Evaluate(x);
                    if (cs.IsUnsafe(y) && cs.Box.Contains(x))
                    {
                        lock (gate) { if (cex is null) { cex = x; cexY = y; } }
                        return null;
                    }
                }
                if (split is { } s) return [(s.High, depth + 1), (s.Low, depth + 1)];
                // Depth limit: exact linear regions of f on this box against the shifted unsafe set.
                var shifted = new VnnLibCase(box, cs.Unsafe.Select(k => new OutputConjunction(
                    k.Constraints.Select(r => new OutputConstraint(r.A, r.B - Blas.Dot(r.A, shift))).ToList())).ToList());
                var rest = options.MaxTime is TimeSpan total ? total - clock.Elapsed : (TimeSpan?)null;
                var exact = PropertyVerifier.Verify(net, new VnnLibProperty(n, net.OutputSize, [shifted], property.Source),
                    options with { MaxTime = rest, CollectAll = false, MaxDegreeOfParallelism = 1 }, ct);
                lock (gate)
                {
                    regions += exact.Regions;
                    lps += exact.LinearPrograms;
                }
                if (exact.Status == VerificationStatus.Holds) return null;
                if (exact.Counterexample is { } cx)
                {
                    var y = repaired.Evaluate(cx);
                    if (cs.IsUnsafe(y) && cs.Box.Contains(cx))
                    {
                        lock (gate) { if (cex is null) { cex = cx; cexY = y; } }
                        return null;
                    }
                }
                lock (gate)
                {
                    undecided = true;
                    detail = $"a box at depth {depth} was not decided ({exact.StatusText}: {exact.Detail})";
                    budget ??= exact.Budget;
                }
                return null;
            }

            WorkerThreads.Run(Worker, threads, ct);
        }
        if (cex is not null)
            return new VerificationResult(VerificationStatus.Violated, cex, cexY, regions, nodes, lps, clock.Elapsed, null,
                "counterexample on the repaired network", []);
        var status = budget is null && !undecided ? VerificationStatus.Holds : VerificationStatus.Unknown;
        if (status == VerificationStatus.Holds)
            detail = $"proved on {nodes} boxes: every patch is a monotone constant shift gated to its box ({repaired.Patches.Count} patches)";
        else if (budget is not null) detail = $"{budget} budget hit";
        return new VerificationResult(status, null, null, regions, nodes, lps, clock.Elapsed, budget, detail, []);
    }

    /// <summary>Whether <paramref name="box"/> strictly holds some patch's box (it holds it and is larger).</summary>
    private static bool HoldsPatchBox(InputBox[] boxes, InputBox box)
    {
        foreach (var b in boxes)
            if (box.Contains(b) && !b.Contains(box)) return true;
        return false;
    }

    /// <summary>p_j of the last patch (largest j) whose box contains <paramref name="box"/>; zero if none.</summary>
    private static double[] Shift(RepairedNetwork repaired, InputBox[] boxes, InputBox box)
    {
        for (int l = boxes.Length - 1; l >= 0; l--)
        {
            if (boxes[l].Contains(box)) return repaired.Patches[l].Patch.D;
        }
        return new double[repaired.Original.OutputSize];
    }
}
