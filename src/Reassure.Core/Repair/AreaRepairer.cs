using System.Diagnostics;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;
using Reassure.Verification;

namespace Reassure.Repair;

/// <summary>Options of <see cref="AreaRepairer"/>.</summary>
public sealed record AreaRepairOptions
{
    /// <summary>Margin by which each repaired region must clear the unsafe set (output units).</summary>
    public double Margin { get; init; } = 1e-4;

    /// <summary>First support sharpness gamma; raised x10 while the re-verification cannot prove the property.</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>Largest gamma tried.</summary>
    public double MaxGamma { get; init; } = 1e8;

    /// <summary>Budgets and knobs of the search for violating regions and of the re-verification.</summary>
    public VerificationOptions Verification { get; init; } = new();

    /// <summary>
    /// Budget of linear regions the region-by-region proof of soundness may enumerate per box; above it the proof is
    /// not attempted and the re-verification falls back to <see cref="PropertyVerifier"/>.
    /// </summary>
    public int CertificateMaxRegions { get; init; } = 200;

    /// <summary>The box the patch bounds K must hold on (default: the hull of the property's boxes).</summary>
    public InputBox? Domain { get; init; }

    /// <summary>How violating areas are patched (default: linear regions first, sub-boxes when that does not prove).</summary>
    public AreaRepairStrategy Strategy { get; init; } = AreaRepairStrategy.Auto;

    /// <summary>Sub-box strategy: budget of boxes visited while splitting (open boxes are then patched with their bound).</summary>
    public int MaxBoxes { get; init; } = 200_000;

    /// <summary>Sub-box strategy: seeded random points per box, beside the centre and the bound minimisers.</summary>
    public int SamplesPerBox { get; init; } = 16;

    /// <summary>
    /// Sub-box strategy: a box is patched once its provable shift is within twice the largest shift a sampled point
    /// needs plus this fraction of the largest output magnitude at the root box's centre.
    /// </summary>
    public double ShiftTolerance { get; init; } = 0.01;

    /// <summary>Sub-box strategy: boxes a bisection may use to prove that one shift covers a whole box before it is split.</summary>
    public int ProofBoxesPerPatch { get; init; } = 64;

    /// <summary>Sub-box strategy: boxes whose samples are partly safe are split down to this depth (locality).</summary>
    public int MaxMixedDepth { get; init; } = 12;

    /// <summary>Sub-box strategy: random points per box of the property that choose the shift direction (<see cref="MonotoneShift.ChooseDirection"/>).</summary>
    public int DirectionSamples { get; init; } = 4000;

    /// <summary>Sub-box strategy: how outputs become decisions (argmin for ACAS Xu), so the shift can leave decisions alone.</summary>
    public MonotoneShift.Decision Decision { get; init; } = MonotoneShift.Decision.None;

    /// <summary>Sub-box strategy: gamma of the box supports (band of 1/gamma input units around each box).</summary>
    public double BoxGamma { get; init; } = 1e6;
}

/// <summary>How <see cref="AreaRepairer"/> patches a violating area.</summary>
public enum AreaRepairStrategy
{
    /// <summary>Regions first; when their repair is not proved and the unsafe set has a monotone direction, sub-boxes.</summary>
    Auto,
    /// <summary>One patch per violating linear region (REASSURE).</summary>
    Regions,
    /// <summary>Constant monotone patches on sub-boxes (<see cref="BoxAreaRepairer"/>).</summary>
    Boxes,
}

/// <summary>Result of an area repair.</summary>
/// <param name="Repaired">The repaired network (no patches when nothing was violated).</param>
/// <param name="Before">The search for violating regions on the original network.</param>
/// <param name="After">The re-verification of the repaired network.</param>
/// <param name="RegionsFound">Violating regions found.</param>
/// <param name="Patched">Regions patched (each patch proved by an independent LP over its whole region).</param>
/// <param name="Gamma">The largest gamma of the supports (each is raised only where its band leaks).</param>
/// <param name="Seconds">Wall time of the whole repair (search, patches, re-verification).</param>
/// <param name="PatchSeconds">Wall time of building and checking the patches only.</param>
/// <param name="Errors">Regions that could not be patched, with their codes.</param>
/// <param name="Specs">Per patch, the convex specification it was built and checked for (empty for sub-box patches).</param>
public sealed record AreaRepairResult(RepairedNetwork Repaired, VerificationResult Before, VerificationResult After,
    int RegionsFound, int Patched, double Gamma, double Seconds, double PatchSeconds, IReadOnlyList<string> Errors,
    IReadOnlyList<LinearSpecification> Specs)
{
    /// <summary>Which strategy produced the patches.</summary>
    public AreaRepairStrategy Strategy { get; init; } = AreaRepairStrategy.Regions;
}

/// <summary>
/// Area repair (REASSURE, method.md §6): find every linear region of the property's boxes where the unsafe set is
/// reached, patch each one so that the whole region meets a convex specification inside the safe set, gate every
/// patch to its region (pattern support plus the box faces as explicit rows) and re-verify the repaired network.
/// <para>
/// From unsafe set to a convex per-region specification: the unsafe set is U = U_1 or ... or U_K with
/// U_k = { y : a_{k,r} . y &lt;= b_{k,r} for all r }, so the safe set is the conjunction over k of the disjunctions
/// over r of a_{k,r} . y &gt; b_{k,r}. For every region and every k one row r is chosen, and the region's specification
/// is -a_{k,r} . y &lt;= -b_{k,r} - margin for every k (a polyhedron inside the safe set, as method.md §2 needs).
/// Rule: r is the row the region is closest to meeting already, i.e. the one with the smallest
/// max over the region of (b_{k,r} + margin - a_{k,r} . y) (one LP per row); ties go to the lowest r. Identical
/// chosen rows are merged.
/// </para>
/// <para>
/// Gamma: the supports start at <see cref="AreaRepairOptions.Gamma"/>; the repaired network is re-verified by
/// <see cref="PropertyVerifier"/>, which bounds every support on every region (provably off, own, or partly on: an
/// interval for the leaking patch), and gamma is raised x10 until the re-verification says "holds" or
/// <see cref="AreaRepairOptions.MaxGamma"/> is passed; the result reports the last re-verification as it is.
/// </para>
/// </summary>
public static class AreaRepairer
{
    /// <summary>Repairs <paramref name="network"/> on the area of <paramref name="property"/>.</summary>
    public static AreaRepairResult Repair(Network network, VnnLibProperty property, AreaRepairOptions? options = null, CancellationToken ct = default)
    {
        options ??= new AreaRepairOptions();
        if (options.Strategy == AreaRepairStrategy.Boxes) return BoxAreaRepairer.Repair(network, property, options, ct);
        var clock = Stopwatch.StartNew();
        var before = PropertyVerifier.Verify(network, property, options.Verification with { CollectAll = true }, ct);
        bool boxesPossible = options.Strategy == AreaRepairStrategy.Auto && MonotoneShift.Direction(property) is not null;
        string why;
        if (boxesPossible && before.Budget is not null)
        {
            // The violating regions could not all be collected: patching the ones found cannot be proved complete.
            why = $"the search for violating regions hit its {before.Budget} budget after {before.Regions} regions ({before.Violating.Count} violating)";
        }
        else
        {
            var byRegions = RepairRegions(network, property, options, before, clock, ct);
            if (!boxesPossible || byRegions.After.Status == VerificationStatus.Holds) return byRegions;
            why = $"the region-by-region repair ended {byRegions.After.StatusText} ({byRegions.After.Detail})";
        }
        var byBoxes = BoxAreaRepairer.Repair(network, property, options, ct);
        return byBoxes with
        {
            Seconds = clock.Elapsed.TotalSeconds,
            Errors = [$"{why}; repaired by sub-boxes instead", .. byBoxes.Errors],
        };
    }

    private static AreaRepairResult RepairRegions(Network network, VnnLibProperty property, AreaRepairOptions options, VerificationResult before, Stopwatch clock, CancellationToken ct)
    {
        var domain = options.Domain ?? property.Hull();
        var errors = new List<string>();
        // The proof's region lists do not depend on the patches: enumerated on another core while the patches are built.
        var enumeration = before.Violating.Count == 0 ? null : Task.Run(() => property.Cases
            .Select(cs => (IReadOnlyList<RegionPiece>)RegionEnumerator.All(network, cs.Box, options.CertificateMaxRegions + 1, ct)).ToList(), ct);
        var patchClock = Stopwatch.StartNew();
        var built = new List<(LinearRegion Region, AffinePatch Patch, double Norm, int Case, LinearSpecification Spec)>();
        foreach (var v in before.Violating)
        {
            var cs = property.Cases[v.Case];
            var region = new LinearRegion(network, v.Pattern, cs.Box);
            try
            {
                using var lp = new RegionLp(region);
                var spec = RegionSpecification.Choose(cs, lp, network.OutputSize, options.Margin, ct);
                var patch = FastPatcher.Build(region, spec, lp, ct, out var certificates);
                var check = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certificates);
                if (!check.Verified) { errors.Add($"{ErrorCodes.PatchCheckFailed}: region {v.Pattern.Hash()}: worst slack {check.WorstSlack}"); continue; }
                if (patch.IsZero) continue;
                built.Add((region, patch, PatchVerifier.Norm(region, patch, lp), v.Case, spec));
            }
            catch (ReassureException ex)
            {
                errors.Add($"{ex.Code}: region {v.Pattern.Hash()}: {ex.Detail}");
            }
        }
        double patchSeconds = patchClock.Elapsed.TotalSeconds;
        var gammas = Enumerable.Repeat(options.Gamma, built.Count).ToArray();
        RepairedNetwork repaired = Build(network, domain, property, built, gammas);
        VerificationResult after;
        AreaCertificateResult? certificate = null;
        var proofClock = Stopwatch.StartNew();
        if (built.Count > 0)
        {
            // Soundness over the whole area (method.md §6), proved per region by LP; gamma raised only where a band leaks.
            var regions = enumeration!.GetAwaiter().GetResult();
            bool complete = regions.All(r => r.Count <= options.CertificateMaxRegions);
            if (!complete) errors.Add($"{ErrorCodes.BudgetExceeded}: more than {options.CertificateMaxRegions} linear regions in a box; the region-by-region proof was not attempted");
            var specs = built.Select(b => b.Spec).ToList();
            var proved = new HashSet<(int Case, int Region)>(); // proved regions stay proved as gammas grow (AreaCertificate)
            var bandMinima = new Dictionary<(int Case, int Region, int Patch), double>(); // gamma-free: one LP per pair
            while (complete)
            {
                certificate = AreaCertificate.Check(repaired, property, specs, regions, proved, bandMinima, ct);
                if (certificate.Holds || certificate.Raise.Count == 0) break;
                bool raised = false;
                foreach (int l in certificate.Raise)
                {
                    if (gammas[l] * 10 > options.MaxGamma) continue;
                    gammas[l] *= 10;
                    raised = true;
                }
                if (!raised) break;
                repaired = Build(network, domain, property, built, gammas);
            }
        }
        if (certificate is { Holds: true })
        {
            after = new VerificationResult(VerificationStatus.Holds, null, null, certificate.Regions, 0, certificate.LinearPrograms,
                proofClock.Elapsed, null, "proved region by region: " + certificate.Detail, []);
        }
        else
        {
            // No proof region by region: search the repaired network; where it finds a counterexample, the supports that
            // are on there (leaking) get a sharper gamma, until the search finds none or gamma reaches its limit.
            after = PropertyVerifier.Verify(repaired, property, options.Verification with { CollectAll = false }, ct);
            while (after.Status == VerificationStatus.Violated && after.Counterexample is { } cex)
            {
                repaired.Evaluate(cex, out var gates);
                bool raised = false;
                for (int l = 0; l < gates.Length; l++)
                {
                    if (gates[l] <= 0 || gammas[l] * 10 > options.MaxGamma) continue;
                    gammas[l] *= 10;
                    raised = true;
                }
                if (!raised) break;
                repaired = Build(network, domain, property, built, gammas);
                after = PropertyVerifier.Verify(repaired, property, options.Verification with { CollectAll = false }, ct);
            }
            if (certificate is not null && after.Status != VerificationStatus.Holds)
                errors.Add($"area certificate: {certificate.Detail}");
        }
        double gamma = gammas.Length == 0 ? options.Gamma : gammas.Max();
        return new AreaRepairResult(repaired, before, after, before.Violating.Count, built.Count, gamma, clock.Elapsed.TotalSeconds, patchSeconds, errors,
            built.Select(b => b.Spec).ToList());
    }

    /// <summary>The box faces as explicit support rows: x_i &lt;= hi_i and -x_i &lt;= -lo_i.</summary>
    public static IReadOnlyList<HalfSpace> BoxRows(InputBox box)
    {
        var rows = new List<HalfSpace>(2 * box.Dimension);
        for (int i = 0; i < box.Dimension; i++)
        {
            var a = new double[box.Dimension]; a[i] = 1;
            rows.Add(new HalfSpace(a, box.Upper[i]));
            var b = new double[box.Dimension]; b[i] = -1;
            rows.Add(new HalfSpace(b, -box.Lower[i]));
        }
        return rows;
    }

    private static RepairedNetwork Build(Network network, InputBox domain, VnnLibProperty property, List<(LinearRegion Region, AffinePatch Patch, double Norm, int Case, LinearSpecification Spec)> built, double[] gammas) =>
        new(network, domain, built.Select((b, l) => (b.Region, b.Patch, new Support(b.Region.Pattern, BoxRows(property.Cases[b.Case].Box), gammas[l]), b.Norm)).ToList());
}
