using System.Collections.Concurrent;
using System.Diagnostics;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Repair;

/// <summary>
/// Point-wise repair (REASSURE, Fu and Li, ICLR 2022; method.md §1-§6): the only entry point the ML.NET, MSBuild
/// and CLI front doors call. Plans regions (completeness), builds one patch per region (fast or minimal),
/// combines them with gated supports, then enforces soundness by raising gamma where a support leaks onto another
/// buggy input (in double and in float32 through ONNX Runtime), and checks every patch by an independent LP.
/// </summary>
public static class Repairer
{
    /// <summary>Repairs <paramref name="network"/> so that every buggy input meets its specification.</summary>
    public static RepairResult Repair(
        Network network,
        IReadOnlyList<BuggyInput> inputs,
        RepairOptions? options = null,
        IProgress<RepairProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Run(network, null, null, inputs, options, progress, cancellationToken);
    }

    /// <summary>
    /// Incremental repair: adds patches to an already repaired network (a user finds new bugs after release) and keeps
    /// every earlier guarantee. The new patches of regions no earlier patch holds come FIRST in the patch order
    /// (method.md §5): inside an earlier patched region R_k every suffix maximum G_l with l &lt;= k is 1, so the gated
    /// differences still telescope to p_k there, exactly as before. A new input inside an earlier patched region R_k gets
    /// a new patch for R_k in place k that meets both specifications (the earlier one, from
    /// <paramref name="existingSpecs"/>, and the new one; rows with the same P merge to the tighter bounds); when they
    /// cannot form one specification (e.g. two different labels) or the earlier one is not recorded, the input gets
    /// RSR1050. The earlier patches are re-proved against their recorded specifications by the independent check.
    /// The domain is the existing network's.
    /// </summary>
    public static RepairResult Repair(
        RepairedNetwork existing,
        IReadOnlyList<LinearSpecification?> existingSpecs,
        IReadOnlyList<BuggyInput> inputs,
        RepairOptions? options = null,
        IProgress<RepairProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(existingSpecs);
        if (existingSpecs.Count != existing.Patches.Count)
            throw new ArgumentException($"{existingSpecs.Count} specifications for {existing.Patches.Count} patches", nameof(existingSpecs));
        return Run(existing.Original, existing, existingSpecs, inputs, options, progress, cancellationToken);
    }

    private static RepairResult Run(
        Network network,
        RepairedNetwork? existing,
        IReadOnlyList<LinearSpecification?>? existingSpecs,
        IReadOnlyList<BuggyInput> inputs,
        RepairOptions? options,
        IProgress<RepairProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        network.RequireAnalysablePools("repair");
        options ??= new RepairOptions();
        options.Validate();
        if (network.HiddenCount == 0)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph,
                "the network has no hidden ReLU layer: an affine model is one linear region, so a patch would change it on every input; expected at least one Relu between two affine layers",
                network.OutputName);
        var total = Stopwatch.StartNew();
        var errors = new Dictionary<int, (string Code, string Message)>();
        var domain = existing?.Domain ?? options.Domain ?? network.Domain ?? DefaultDomain(network, inputs);
        int oldCount = existing?.Patches.Count ?? 0;
        int lpCount = 0, simplexCount = 0, fallbackCount = 0;

        // Stage 1: regions.
        var stage = Stopwatch.StartNew();
        var specs = new LinearSpecification?[inputs.Count];
        var patterns = new ActivationPattern?[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (input.Input.Length != network.InputSize)
            {
                errors[i] = (ErrorCodes.BadSpecification, $"Input {Name(inputs, i)} has {input.Input.Length} values; the network takes {network.InputSize}.");
                continue;
            }
            try { specs[i] = input.Spec.ToLinear(network.OutputSize); }
            catch (ReassureException ex) { errors[i] = (ex.Code, $"Input {Name(inputs, i)}: {ex.Detail}"); continue; }
            if (!domain.Contains(input.Input))
            {
                errors[i] = (ErrorCodes.InputOutsideDomain, existing is null
                    ? $"Input {Name(inputs, i)} lies outside the repair domain box; widen RepairOptions.Domain."
                    : $"Input {Name(inputs, i)} lies outside the domain box the earlier patches were bounded on (stored with them); repair the original model with all rows and a domain that holds them.");
                continue;
            }
            patterns[i] = network.Pattern(input.Input);
        }
        var jobs = RepairPlan.Build(network, domain, inputs, specs, patterns, errors, options.LocalBox);
        var replaces = new int?[jobs.Count]; // the earlier patch whose region the job's inputs lie in (incremental repair)
        if (existing is not null)
        {
            for (int j = 0; j < jobs.Count; j++)
            {
                var job = jobs[j];
                var x = inputs[job.Inputs[0]].Input;
                int k = -1;
                for (int q = 0; q < oldCount && k < 0; q++)
                {
                    var old = existing.Patches[q].Region;
                    if (job.Region.ExtraRows.Count == 0 && old.Pattern.Equals(job.Region.Pattern) && old.Contains(x)) k = q;
                }
                if (k < 0) continue;
                string? why = existingSpecs![k] is not { } oldSpec
                    ? $"it lies in the region of earlier patch {k}, whose specification the model does not record; repair the original model with all rows"
                    : LinearSpecification.Merge(oldSpec, job.Spec) is { } merged
                        ? null
                        : $"it lies in the region of earlier patch {k}, which must keep meeting its own specification, and the two specifications cannot both hold (e.g. different labels); repair the original model with all rows";
                if (why is not null)
                {
                    foreach (int i in job.Inputs) errors[i] = (ErrorCodes.ConflictingRequirements, $"Input {Name(inputs, i)}: {why}.");
                    continue;
                }
                jobs[j] = new RepairJob(existing.Patches[k].Region, LinearSpecification.Merge(existingSpecs[k]!, job.Spec)!, job.Inputs);
                replaces[j] = k;
            }
            var live = Enumerable.Range(0, jobs.Count).Where(j => !errors.ContainsKey(jobs[j].Inputs[0])).ToList();
            jobs = live.Select(j => jobs[j]).ToList();
            replaces = live.Select(j => replaces[j]).ToArray();
        }
        var regionsTime = stage.Elapsed;
        progress?.Report(new RepairProgress("regions", jobs.Count, jobs.Count));

        // Stage 2: one patch per region, in parallel; results are placed by job index, so they do not depend on threads.
        stage.Restart();
        var built = new (AffinePatch Patch, double Norm)?[jobs.Count];
        var certificates = new RowCertificates?[jobs.Count];
        var skipped = new (string Code, string Message)?[jobs.Count];
        int done = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism), CancellationToken = cancellationToken };
        // Longest first, handed out one at a time: a region whose point violates more rows needs more exact maxima
        // (an early stop costs about half an exact solve), so those start first and the threads finish together.
        // The outputs at each job's first input order the job's rows (FastPatcher) and the jobs themselves.
        var atPoint = jobs.Select(job => network.Evaluate(inputs[job.Inputs[0]].Input)).ToArray();
        var schedule = Enumerable.Range(0, jobs.Count).OrderByDescending(j => ExactRows(jobs[j].Spec, atPoint[j])).ThenBy(j => j).ToList();
        Parallel.ForEach(Partitioner.Create(schedule, EnumerablePartitionerOptions.NoBuffering), parallel, j =>
        {
            if (options.MaxPatches is int max && j >= max)
            {
                skipped[j] = (ErrorCodes.BudgetExceeded, $"The patch budget of {max} regions was reached before this input's region.");
                return;
            }
            if (options.MaxTime is TimeSpan limit && total.Elapsed > limit)
            {
                skipped[j] = (ErrorCodes.BudgetExceeded, $"The time budget of {limit.TotalSeconds:0.###} s was reached before this input's region.");
                return;
            }
            var job = jobs[j];
            try
            {
                if (options.Mode == PatchMode.Minimal)
                {
                    var (patch, norm) = MinimalPatcher.Build(job.Region, job.Spec, cancellationToken);
                    built[j] = (patch, norm);
                    Interlocked.Add(ref lpCount, 1);
                }
                else
                {
                    using var lp = new RegionLp(job.Region, null, options.LpEngine);
                    var patch = FastPatcher.Build(job.Region, job.Spec, lp, cancellationToken, out var rowCertificates, atPoint[j]);
                    certificates[j] = rowCertificates;
                    double norm = PatchVerifier.Norm(job.Region, patch, lp);
                    built[j] = (patch, norm);
                    Interlocked.Add(ref lpCount, lp.Solves);
                    Interlocked.Add(ref simplexCount, lp.SimplexSolves);
                    Interlocked.Add(ref fallbackCount, lp.Fallbacks);
                }
            }
            catch (ReassureException ex)
            {
                // A solver status that is not an optimum is reported on the region's inputs, never ignored.
                skipped[j] = (ex.Code, $"Region {job.Region.Pattern.Hash()}: {ex.Detail}");
            }
            progress?.Report(new RepairProgress("patches", Interlocked.Increment(ref done), jobs.Count));
        });
        var patchesTime = stage.Elapsed;

        // Patch order (method.md §5) is the job order; zero patches (region already meets its spec) are left out. In an
        // incremental repair the new regions come first, then the earlier patches in their order, a patch rebuilt for an
        // earlier region (both specifications) in that region's place.
        var patchJobs = new List<int>(); // per patch: its job, or -1 for an earlier patch kept as it was
        var oldIndex = new List<int>();  // per patch: the earlier patch it is or replaces, or -1
        for (int j = 0; j < jobs.Count; j++)
            if (replaces[j] is null && built[j] is { } b && !b.Patch.IsZero) { patchJobs.Add(j); oldIndex.Add(-1); }
        for (int k = 0; k < oldCount; k++)
        {
            int j = Array.FindIndex(replaces, r => r == k);
            patchJobs.Add(j >= 0 && built[j] is not null ? j : -1);
            oldIndex.Add(k);
        }
        var repaired = new RepairedNetwork(network, domain, patchJobs.Select((j, p) =>
        {
            if (oldIndex[p] is int k && k >= 0)
            {
                var old = existing!.Patches[k];
                return j < 0 ? (old.Region, old.Patch, old.Support, old.Norm) : (old.Region, built[j]!.Value.Patch, old.Support, built[j]!.Value.Norm);
            }
            var job = jobs[j];
            // A box part starts at gamma 1/t (t its scaled half-width): the band beyond the box is no wider than the box.
            double gamma = job.Box is { } bx
                ? Math.Min(options.MaxGamma, Math.Max(options.Gamma, 1 / Math.Max(1e-300, bx.HalfWidth.Zip(bx.Scale).Max(p => p.First * p.Second))))
                : options.Gamma;
            var support = options.Support switch
            {
                SupportKind.PolytopeRows => new Support(null, job.Region.PolytopeRows(), gamma, box: job.Box),
                SupportKind.Box => new Support(null, job.Region.ExtraRows, gamma, box: job.Box),
                _ => new Support(job.Region.Pattern, job.Region.ExtraRows, gamma, box: job.Box),
            };
            return (job.Region, built[j]!.Value.Patch, support, built[j]!.Value.Norm);
        }).ToList());
        var ownPatch = new int?[inputs.Count];
        for (int p = 0; p < patchJobs.Count; p++) if (patchJobs[p] >= 0) foreach (var i in jobs[patchJobs[p]].Inputs) ownPatch[i] = p;
        var inJob = new int?[inputs.Count];
        for (int j = 0; j < jobs.Count; j++) foreach (var i in jobs[j].Inputs) inJob[i] = j;

        // Stage 3: soundness, enforced (method.md §6).
        stage.Restart();
        var candidates = Enumerable.Range(0, inputs.Count).Where(i => inJob[i] is int j && built[j] is not null).ToList();
        repaired = SoundnessLoop.Enforce(repaired, inputs, specs, candidates, ownPatch, options, cancellationToken);
        bool[]? float32 = null;
        if (options.CheckFloat32 && repaired.Patches.Count > 0)
        {
            var evaluator = options.Float32Evaluator!; // checked by Validate
            (repaired, float32) = SoundnessLoop.EnforceFloat32(repaired, inputs, specs, candidates, ownPatch, options, evaluator, cancellationToken);
        }
        var soundnessTime = stage.Elapsed;
        progress?.Report(new RepairProgress("soundness", 1, 1));

        // Stage 4: independent check of every patch over its whole region: the build's row multipliers re-proved by weak
        // duality in double where they close, rows the build stopped early on by that stop plus the patch's own term,
        // the other rows by LP in a fresh solver (PatchVerifier).
        stage.Restart();
        var checks = new PatchVerifier.Outcome?[repaired.Patches.Count];
        if (options.VerifyPatches)
        {
            int verified = 0;
            Parallel.For(0, repaired.Patches.Count, parallel, p =>
            {
                int j = patchJobs[p];
                var spec = j >= 0 ? jobs[j].Spec : existingSpecs![oldIndex[p]];
                try
                {
                    // An earlier patch kept as it was is proved again against its recorded specification (no certificate:
                    // the metadata never decides a proof); without one it stays unverified.
                    checks[p] = spec is null
                        ? new PatchVerifier.Outcome(false, double.NaN, 0)
                        : PatchVerifier.Check(repaired.Patches[p].Region, repaired.Patches[p].Patch, spec,
                            j >= 0 ? options.CheckFormulation : PatchVerifier.CheckFormulation.Layered, j >= 0 ? certificates[j] : null);
                }
                catch (ReassureException)
                {
                    checks[p] = new PatchVerifier.Outcome(false, double.NaN, 0); // an unsolved check is a failed check
                }
                Interlocked.Add(ref lpCount, checks[p]!.LinearPrograms);
                progress?.Report(new RepairProgress("verify", Interlocked.Increment(ref verified), repaired.Patches.Count));
            });
        }
        var verifyTime = stage.Elapsed;

        // Report.
        var statuses = new InputStatus[inputs.Count];
        var floatIndex = candidates.Select((i, k) => (i, k)).ToDictionary(t => t.i, t => t.k);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (errors.TryGetValue(i, out var err))
            {
                statuses[i] = new InputStatus(i, inputs[i].Id, false, null, null, err.Code, err.Message);
                continue;
            }
            int j = inJob[i]!.Value;
            if (skipped[j] is { } why)
            {
                statuses[i] = new InputStatus(i, inputs[i].Id, false, null, null, why.Code, why.Message);
                continue;
            }
            var y = repaired.Evaluate(inputs[i].Input);
            bool fixedDouble = specs[i]!.Slack(y) >= 0;
            bool? fixedFloat = float32 is null ? null : float32[floatIndex[i]];
            string? code = null, message = null;
            if (!fixedDouble || fixedFloat == false)
            {
                code = ErrorCodes.SoundnessNotReached;
                message = fixedDouble
                    ? $"Input {Name(inputs, i)} meets its specification in double but not in float32 (ONNX Runtime); use a larger margin."
                    : $"Input {Name(inputs, i)} does not meet its specification after raising gamma up to {options.MaxGamma:G3}.";
            }
            if (code is null && ownPatch[i] is int own && options.VerifyPatches && checks[own]?.Verified != true)
            {
                code = ErrorCodes.PatchCheckFailed;
                message = $"The patch of input {Name(inputs, i)} did not pass the independent LP check over its region (worst slack {checks[own]?.WorstSlack:G3}).";
            }
            statuses[i] = new InputStatus(i, inputs[i].Id, fixedDouble, fixedFloat, ownPatch[i], code, message);
        }
        var infos = new PatchInfo[repaired.Patches.Count];
        for (int p = 0; p < infos.Length; p++)
        {
            var gp = repaired.Patches[p];
            IReadOnlyList<int> fixes = patchJobs[p] >= 0 ? jobs[patchJobs[p]].Inputs : [];
            infos[p] = new PatchInfo(p, gp.Region.Pattern.Hash(), gp.Support.Gamma, gp.Norm, fixes, gp.Region.ExtraRows.Count,
                checks[p]?.Verified ?? false, checks[p]?.WorstSlack ?? double.NaN,
                checks[p]?.Certified ?? 0, checks[p]?.ByBuildStop ?? 0, checks[p]?.LinearPrograms ?? 0);
        }
        var timings = new RepairTimings(regionsTime, patchesTime, soundnessTime, verifyTime, total.Elapsed, lpCount, simplexCount, fallbackCount);
        var patchSpecs = patchJobs.Select((j, p) => j >= 0 ? jobs[j].Spec : existingSpecs![oldIndex[p]]).ToList();
        return new RepairResult(repaired, statuses, infos, timings, patchSpecs);
    }

    /// <summary>
    /// The domain when neither the options nor the network give one: per input dimension, the hull of [0, 1] and
    /// the buggy inputs (MNIST pixels give [0, 1]).
    /// </summary>
    public static InputBox DefaultDomain(Network network, IReadOnlyList<BuggyInput> inputs)
    {
        var lo = new double[network.InputSize];
        var hi = Enumerable.Repeat(1.0, network.InputSize).ToArray();
        foreach (var input in inputs)
        {
            if (input.Input.Length != network.InputSize) continue;
            for (int k = 0; k < lo.Length; k++)
            {
                lo[k] = Math.Min(lo[k], input.Input[k]);
                hi[k] = Math.Max(hi[k], input.Input[k]);
            }
        }
        return new InputBox(lo, hi);
    }

    internal static string Name(IReadOnlyList<BuggyInput> inputs, int i) => inputs[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Rows of <paramref name="spec"/> violated at outputs <paramref name="y"/>, and two-sided rows: those need an exact maximum.</summary>
    private static int ExactRows(LinearSpecification spec, double[] y)
    {
        int count = 0;
        for (int r = 0; r < spec.Rows; r++)
        {
            double v = spec.Row(r, y);
            if (v > spec.Upper[r] || v < spec.Lower[r] || !double.IsNegativeInfinity(spec.Lower[r])) count++;
        }
        return count;
    }
}
