using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>Outcome of <c>AreaCertificate.Check</c>.</summary>
/// <param name="Holds">Every point of every case box is proved safe on the repaired network.</param>
/// <param name="Regions">Linear regions of the original network examined.</param>
/// <param name="LeakingPairs">(region, patch) pairs whose band meets the region.</param>
/// <param name="LinearPrograms">LPs solved.</param>
/// <param name="Raise">Patches whose leak could not be proved safe: raising their gamma shrinks their band.</param>
/// <param name="Detail">What failed first, or a summary.</param>
public sealed record AreaCertificateResult(bool Holds, int Regions, int LeakingPairs, int LinearPrograms, IReadOnlyList<int> Raise, string Detail);

/// <summary>
/// Soundness over whole areas (method.md §6), proved region by region by LP instead of by sampling.
/// <para>
/// Inside a region R of the original network, f is affine (f_R) and, for constant-difference patches, each gated
/// difference h'_l = G_l p'_l, with G the suffix maximum of the supports, non-increasing in l. Abel summation gives
/// the repaired output as a convex combination
/// <code>
///   f_R(x) + (1 - G_{j+1}(x)) p_j(x) + sum_{l > j} (G_l(x) - G_{l+1}(x)) p_l(x)
/// </code>
/// (j the patch of R, p_j = 0 when R has none), where a weight G_l - G_{l+1} > 0 needs g_l(x) > 0, i.e. x in the band
/// of patch l: sum over the neurons where R's pattern and l's differ of gamma_l |z_k(x)| &lt; 1. On R each |z_k| is
/// affine, so R ∩ band_l is a polytope. The output is safe if some convex set S inside the safe set (a per-region
/// specification: R's own, or a leaking patch's) holds f_R + p_j on R and f_R + p_l on every R ∩ band_l; each is an
/// LP. A region with no leak and no patch is safe when no unsafe conjunction is reachable from it (one LP each).
/// </para>
/// </summary>
public static class AreaCertificate
{
    /// <summary>Slack by which an LP maximum may exceed a bound and still count (LP feasibility tolerance).</summary>
    public const double Tolerance = 1e-7;

    /// <summary>
    /// Checks the repaired network on every region of every case box. <paramref name="specs"/>[l] is the specification
    /// patch l was built and checked for. Regions of a case come from <paramref name="regions"/>[case].
    /// </summary>
    public static AreaCertificateResult Check(
        RepairedNetwork repaired, VnnLibProperty property, IReadOnlyList<LinearSpecification> specs,
        IReadOnlyList<IReadOnlyList<RegionPiece>> regions, CancellationToken ct = default) =>
        Check(repaired, property, specs, regions, null, ct);

    /// <summary>
    /// As the public overload, skipping the regions (case, index) in <paramref name="proved"/> and adding those it
    /// proves. A region proved stays proved when gammas only grow and nothing else changes (the area repair's rounds):
    /// each band gamma_l sum_k |z_k| &lt;= 1 shrinks as gamma_l grows, so a patch that did not leak into the region still
    /// does not, and every polytope R ∩ band_l an LP proved its specification on only gets smaller.
    /// </summary>
    internal static AreaCertificateResult Check(
        RepairedNetwork repaired, VnnLibProperty property, IReadOnlyList<LinearSpecification> specs,
        IReadOnlyList<IReadOnlyList<RegionPiece>> regions, HashSet<(int Case, int Region)>? proved, CancellationToken ct) =>
        Check(repaired, property, specs, regions, proved, null, ct);

    /// <summary>
    /// As above, with the band minima m(R, l) = min over R of sum_k |z_k| (neurons where R's and patch l's patterns differ)
    /// kept in <paramref name="bandMinima"/> across calls: they do not depend on gamma, and band_l meets R exactly when
    /// gamma_l m(R, l) &lt;= 1, so one LP per (region, patch) pair decides every round's overlap test (instead of one
    /// feasibility LP per pair and round, whose infeasible answers the input-space simplex cannot certify).
    /// </summary>
    internal static AreaCertificateResult Check(
        RepairedNetwork repaired, VnnLibProperty property, IReadOnlyList<LinearSpecification> specs,
        IReadOnlyList<IReadOnlyList<RegionPiece>> regions, HashSet<(int Case, int Region)>? proved,
        Dictionary<(int Case, int Region, int Patch), double>? bandMinima, CancellationToken ct)
    {
        bandMinima ??= [];
        var net = repaired.Original;
        var patches = repaired.Patches;
        if (patches.Any(p => p.Difference.C is not null))
            return new(false, 0, 0, 0, [], "affine (non-constant) patches are not covered by the band certificate");
        var own = new Dictionary<ActivationPattern, int>();
        for (int l = 0; l < patches.Count; l++) if (patches[l].Support.Pattern is { } p) own.TryAdd(p, l);
        var todo = new List<(int Case, int Region)>();
        int count = 0;
        for (int c = 0; c < property.Cases.Count; c++)
            for (int pi = 0; pi < regions[c].Count; pi++)
            {
                count++;
                if (proved is null || !proved.Contains((c, pi))) todo.Add((c, pi));
            }
        // Regions are independent given the patches: checked on all cores, merged in region order (deterministic).
        var outcomes = new RegionOutcome[todo.Count];
        var known = bandMinima;
        Parallel.For(0, todo.Count, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, t =>
        {
            var (c, pi) = todo[t];
            outcomes[t] = CheckRegion(repaired, property.Cases[c], c, regions[c][pi], specs, own,
                l => known.TryGetValue((c, pi, l), out double m) ? m : null, ct);
        });
        int lps = 0, leaking = 0;
        var raise = new SortedSet<int>();
        string? first = null;
        for (int t = 0; t < todo.Count; t++)
        {
            var (c, pi) = todo[t];
            var o = outcomes[t];
            lps += o.LinearPrograms;
            leaking += o.Leaking;
            foreach (var (l, m) in o.NewMinima) bandMinima[(c, pi, l)] = m;
            if (o.Failure is null) { proved?.Add((c, pi)); continue; }
            foreach (int l in o.Raise) raise.Add(l);
            first ??= o.Failure;
        }
        bool holds = first is null;
        return new(holds, count, leaking, lps, raise.ToList(),
            holds ? $"all {count} regions proved safe ({leaking} leaking region/patch pairs proved safe)" : first!);
    }

    /// <summary>What the check of one region found: null failure when it is proved.</summary>
    private sealed record RegionOutcome(string? Failure, int Leaking, int LinearPrograms, IReadOnlyList<int> Raise, IReadOnlyList<(int Patch, double Minimum)> NewMinima);

    /// <summary>
    /// One region R of case <paramref name="c"/>: the patches whose band meets R (band minima from <paramref name="known"/>
    /// or one LP each), then, without leaks, R's own patch against its specification or the unsafe set unreachable; with
    /// leaks, one convex specification that holds f_R + p_j and f_R + p_l on every R ∩ band_l.
    /// </summary>
    private static RegionOutcome CheckRegion(RepairedNetwork repaired, VnnLibCase cs, int c, RegionPiece piece, IReadOnlyList<LinearSpecification> specs,
        Dictionary<ActivationPattern, int> own, Func<int, double?> known, CancellationToken ct)
    {
        var net = repaired.Original;
        var patches = repaired.Patches;
        int lps = 0;
        var newMinima = new List<(int Patch, double Minimum)>();
        int? j = own.TryGetValue(piece.Pattern, out var jj) ? jj : null;
        var region = new LinearRegion(net, piece.Pattern, cs.Box);
        var leaks = new List<(int Patch, HalfSpace Band)>();
        RegionLp? regionLp = null;
        try
        {
            for (int l = j is int jo ? jo + 1 : 0; l < patches.Count; l++)
            {
                ct.ThrowIfCancellationRequested();
                if (patches[l].Support.Pattern is not { } pl || pl.Equals(piece.Pattern)) continue;
                double gamma = patches[l].Support.Gamma;
                var (a, offset, lowest) = BandRow(piece, pl, cs.Box);
                if (gamma * lowest > 1) continue;
                if (known(l) is not double minimum)
                {
                    regionLp ??= new RegionLp(region);
                    minimum = Math.Max(lowest, BandMinimum(regionLp, a, offset));
                    lps++;
                    newMinima.Add((l, minimum));
                }
                if (gamma * minimum > 1) continue;
                // Written as sum_k sigma_k z_k(x) <= 1 / gamma: coefficients of the network's scale, not gamma's.
                leaks.Add((l, new HalfSpace(a, 1 / gamma - offset)));
            }
        }
        finally { regionLp?.Dispose(); }
        var mine = j is int k ? patches[k].Patch : AffinePatch.Zero(net.InputSize, net.OutputSize);
        if (leaks.Count == 0)
        {
            bool safe = j is int k2
                ? Meets(region, mine, specs[k2], ref lps)
                : Unreachable(region, piece, cs, ref lps);
            string? why = safe ? null : $"region {piece.Pattern.Hash()} of case {c}: " + (j is null ? "reaches the unsafe set and has no patch" : "its own patch does not meet its specification");
            return new(why, 0, lps, [], newMinima);
        }
        // Candidate convex sets: the region's own specification, else a leaking patch's.
        var candidates = new List<LinearSpecification>();
        if (j is int k3) candidates.Add(specs[k3]);
        else
        {
            using var lp = new RegionLp(region);
            candidates.Add(RegionSpecification.Choose(cs, lp, net.OutputSize, 0, ct));
            lps += lp.Solves;
        }
        foreach (var (l, _) in leaks) if (!candidates.Any(s => s.SameAs(specs[l]))) candidates.Add(specs[l]);
        foreach (var s in candidates)
        {
            bool ok = true;
            foreach (var (l, band) in leaks)
            {
                var cut = region.Cut(band);
                if (!Meets(cut, mine, s, ref lps) || !Meets(cut, patches[l].Patch, s, ref lps)) { ok = false; break; }
            }
            if (ok) return new(null, leaks.Count, lps, [], newMinima);
        }
        return new($"region {piece.Pattern.Hash()} of case {c}: patches {string.Join(", ", leaks.Select(t => t.Patch))} leak into it and no convex specification holds all the mixed outputs",
            leaks.Count, lps, leaks.Select(t => t.Patch).ToList(), newMinima);
    }

    /// <summary>
    /// The band of a patch with pattern <paramref name="other"/> on region piece R as sum_k sigma_k z_k(x) = a . x + offset
    /// over the neurons k where the patterns differ (sigma_k z_k = |z_k| on R), with <c>lowest</c>, a lower bound of it
    /// over the box (interval arithmetic per neuron, or of the sum). The band of gamma is a . x + offset &lt;= 1 / gamma.
    /// </summary>
    private static (double[] A, double Offset, double Lowest) BandRow(RegionPiece piece, ActivationPattern other, InputBox box)
    {
        int n = box.Dimension;
        var a = new double[n];
        double offset = 0, lowest = 0;
        for (int k = 0; k < other.Count; k++)
        {
            if (piece.Pattern[k] == other[k]) continue;
            double sigma = piece.Pattern[k] ? 1 : -1;
            double min = sigma * piece.NeuronOffsets[k];
            for (int i = 0; i < n; i++)
            {
                double g = sigma * piece.NeuronGradients[k * n + i];
                a[i] += g;
                min += Math.Min(g * box.Lower[i], g * box.Upper[i]);
            }
            offset += sigma * piece.NeuronOffsets[k];
            lowest += Math.Max(0, min);
        }
        // The sum over the box as one linear function is a second lower bound; the larger of the two holds.
        double joint = offset;
        for (int i = 0; i < n; i++) joint += Math.Min(a[i] * box.Lower[i], a[i] * box.Upper[i]);
        return (a, offset, Math.Max(lowest, joint));
    }

    /// <summary>
    /// A lower bound of min over the region of a . x + offset: the LP maximum of -a . x (certified by the input-space
    /// simplex's multipliers within <see cref="RegionLp"/>'s slack, else GLOP's optimum), lowered by a relative
    /// <see cref="Tolerance"/> so that rounding can only make a band look wider, never empty when it is not.
    /// </summary>
    private static double BandMinimum(RegionLp lp, double[] a, double offset)
    {
        var neg = new double[a.Length];
        for (int i = 0; i < a.Length; i++) neg[i] = -a[i];
        double max = lp.MaximizeInput(neg, 0).Value;
        return -max - Tolerance * Math.Max(1, Math.Abs(max)) + offset;
    }

    private static bool Feasible(RegionLp lp)
    {
        try { lp.MaximizeInput(new double[lp.InputSize], 0); return true; }
        catch (ReassureException e) when (e.Code == ErrorCodes.LpInfeasible) { return false; }
    }

    /// <summary>Whether f_R + p meets s on all of the region (one LP per row; early stop below the bound).</summary>
    private static bool Meets(LinearRegion region, AffinePatch patch, LinearSpecification s, ref int lps)
    {
        using var lp = new RegionLp(region);
        bool ok = true;
        try
        {
            var w = new double[s.Outputs];
            for (int r = 0; r < s.Rows && ok; r++)
            {
                for (int i = 0; i < w.Length; i++) w[i] = s.P[r, i];
                double c0 = 0;
                for (int i = 0; i < w.Length; i++) c0 += w[i] * patch.D[i];
                if (!double.IsPositiveInfinity(s.Upper[r]))
                {
                    var b = lp.MaximizeBelow(w, default, c0, s.Upper[r] + Tolerance);
                    if (b.Exact && b.Value > s.Upper[r] + Tolerance) ok = false;
                }
                if (ok && !double.IsNegativeInfinity(s.Lower[r]))
                {
                    var neg = w.Select(v => -v).ToArray();
                    var b = lp.MaximizeBelow(neg, default, -c0, -s.Lower[r] + Tolerance);
                    if (b.Exact && b.Value > -s.Lower[r] + Tolerance) ok = false;
                }
            }
        }
        catch (ReassureException e) when (e.Code == ErrorCodes.LpInfeasible)
        {
            ok = true; // an empty polytope meets everything
        }
        lps += lp.Solves;
        return ok;
    }

    /// <summary>Whether no point of the region maps into an unsafe conjunction (LP feasibility per conjunction).</summary>
    private static bool Unreachable(LinearRegion region, RegionPiece piece, VnnLibCase cs, ref int lps)
    {
        int n = region.Network.InputSize, m = region.Network.OutputSize;
        foreach (var conj in cs.Unsafe)
        {
            if (conj.Constraints.Count == 1)
            {
                // One row a . y <= b: unreachable when max over R of -a . y is proved below -b (minus the verifier's
                // tolerance), by an optimum or a certified early stop; no feasibility LP (an infeasible answer has no certificate).
                var row = conj.Constraints[0];
                var neg = row.A.Select(v => -v).ToArray();
                double limit = -row.B - PropertyVerifier.Tolerance * (1 + Math.Abs(row.B));
                using var one = new RegionLp(region);
                try
                {
                    var bound = one.MaximizeBelow(neg, default, 0, limit);
                    if (bound.Exact && !(bound.Value < limit)) return false;
                }
                catch (ReassureException e) when (e.Code == ErrorCodes.LpInfeasible) { } // an empty region reaches nothing
                finally { lps += one.Solves; }
                continue;
            }
            // a . (F x + e) <= b  as rows over x
            var cut = region;
            foreach (var row in conj.Constraints)
            {
                var a = new double[n];
                double e = 0;
                for (int o = 0; o < m; o++)
                {
                    if (row.A[o] == 0) continue;
                    for (int i = 0; i < n; i++) a[i] += row.A[o] * piece.OutputMatrix[o * n + i];
                    e += row.A[o] * piece.OutputOffset[o];
                }
                cut = cut.Cut(new HalfSpace(a, row.B - e));
            }
            using var lp = new RegionLp(cut);
            lps++;
            if (Feasible(lp)) return false;
        }
        return true;
    }
}
