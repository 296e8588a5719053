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
        IReadOnlyList<IReadOnlyList<RegionPiece>> regions, HashSet<(int Case, int Region)>? proved, CancellationToken ct)
    {
        var net = repaired.Original;
        var patches = repaired.Patches;
        if (patches.Any(p => p.Difference.C is not null))
            return new(false, 0, 0, 0, [], "affine (non-constant) patches are not covered by the band certificate");
        var own = new Dictionary<ActivationPattern, int>();
        for (int l = 0; l < patches.Count; l++) if (patches[l].Support.Pattern is { } p) own.TryAdd(p, l);
        int lps = 0, leaking = 0, count = 0;
        var raise = new SortedSet<int>();
        string? first = null;
        for (int c = 0; c < property.Cases.Count; c++)
        {
            var cs = property.Cases[c];
            for (int pi = 0; pi < regions[c].Count; pi++)
            {
                var piece = regions[c][pi];
                ct.ThrowIfCancellationRequested();
                count++;
                if (proved is not null && proved.Contains((c, pi))) continue;
                int? j = own.TryGetValue(piece.Pattern, out var jj) ? jj : null;
                var region = new LinearRegion(net, piece.Pattern, cs.Box);
                var leaks = new List<(int Patch, HalfSpace Band)>();
                for (int l = j is int jo ? jo + 1 : 0; l < patches.Count; l++)
                {
                    if (patches[l].Support.Pattern is not { } pl || pl.Equals(piece.Pattern)) continue;
                    var band = Band(piece, pl, patches[l].Support.Gamma, cs.Box);
                    if (band is null) continue;
                    using var lp = new RegionLp(region.Cut(band));
                    lps++;
                    if (!Feasible(lp)) continue;
                    leaks.Add((l, band));
                }
                leaking += leaks.Count;
                var mine = j is int k ? patches[k].Patch : AffinePatch.Zero(net.InputSize, net.OutputSize);
                if (leaks.Count == 0)
                {
                    bool safe = j is int k2
                        ? Meets(region, mine, specs[k2], ref lps)
                        : Unreachable(region, piece, cs, ref lps);
                    if (!safe) first ??= $"region {piece.Pattern.Hash()} of case {c}: " + (j is null ? "reaches the unsafe set and has no patch" : "its own patch does not meet its specification");
                    else proved?.Add((c, pi));
                    continue;
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
                bool certified = false;
                foreach (var s in candidates)
                {
                    bool ok = true;
                    foreach (var (l, band) in leaks)
                    {
                        var cut = region.Cut(band);
                        if (!Meets(cut, mine, s, ref lps) || !Meets(cut, patches[l].Patch, s, ref lps)) { ok = false; break; }
                    }
                    if (ok) { certified = true; break; }
                }
                if (certified) { proved?.Add((c, pi)); continue; }
                foreach (var (l, _) in leaks) raise.Add(l);
                first ??= $"region {piece.Pattern.Hash()} of case {c}: patches {string.Join(", ", leaks.Select(t => t.Patch))} leak into it and no convex specification holds all the mixed outputs";
            }
        }
        bool holds = first is null;
        return new(holds, count, leaking, lps, raise.ToList(),
            holds ? $"all {count} regions proved safe ({leaking} leaking region/patch pairs proved safe)" : first!);
    }

    /// <summary>
    /// The band of a patch with pattern <paramref name="other"/> on region piece R, as one row
    /// gamma sum_k sigma_k z_k(x) &lt;= 1 over the neurons k where the patterns differ (sigma_k z_k = |z_k| on R);
    /// null when interval bounds over the box already show it empty.
    /// </summary>
    private static HalfSpace? Band(RegionPiece piece, ActivationPattern other, double gamma, InputBox box)
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
        if (gamma * lowest > 1) return null;
        // Written as sum_k sigma_k z_k(x) <= 1 / gamma: coefficients of the network's scale, not gamma's.
        return new HalfSpace(a, 1 / gamma - offset);
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
