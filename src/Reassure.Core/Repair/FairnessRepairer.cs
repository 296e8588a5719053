using System.Diagnostics;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Specifications;
using Reassure.Verification;

namespace Reassure.Repair;

/// <summary>Options of <see cref="FairnessRepairer"/>.</summary>
public sealed record FairnessOptions
{
    /// <summary>The sensitive input coordinates (0-based, distinct).</summary>
    public IReadOnlyList<int> Sensitive { get; init; } = [];

    /// <summary>Per sensitive coordinate, its domain [lo, hi] (null: [0, 1] for every one).</summary>
    public IReadOnlyList<(double Lo, double Hi)>? Domain { get; init; }

    /// <summary>The required decision is the row's label instead of the network's decision at the row.</summary>
    public bool ToLabel { get; init; }

    /// <summary>
    /// The area repair of the unfair rows' counterfactual boxes. Default: one patch per violating region, supports
    /// starting at gamma 1000 (a band of 1e-3 input units around each box, so rows that differ from a repaired row by
    /// more than that in a non-sensitive feature see no patch).
    /// </summary>
    public AreaRepairOptions Area { get; init; } = new() { Strategy = AreaRepairStrategy.Regions, Gamma = 1e3 };

    /// <summary>Rounds of "repair, re-verify every row, add the rows a leaking support made unfair" (at least 1).</summary>
    public int MaxRounds { get; init; } = 4;
}

/// <summary>Fairness and accuracy of a network on a set of rows.</summary>
/// <param name="Rows">Rows measured.</param>
/// <param name="Unfair">Rows whose counterfactual box holds an input with a different decision (violated, a confirmed counterexample).</param>
/// <param name="Unknown">Rows the verifier could not decide (a budget).</param>
/// <param name="Correct">Rows whose decision at the row is their label.</param>
/// <param name="UnfairRows">The 0-based indices of the unfair rows.</param>
public sealed record FairnessMeasure(int Rows, int Unfair, int Unknown, int Correct, IReadOnlyList<int> UnfairRows)
{
    /// <summary>Correct / Rows (0 for no rows).</summary>
    public double Accuracy => Rows == 0 ? 0 : (double)Correct / Rows;
}

/// <summary>Result of <see cref="FairnessRepairer.Repair"/>.</summary>
/// <param name="Repaired">The repaired network (no patches when every row was fair).</param>
/// <param name="Before">The rows on the original network.</param>
/// <param name="After">The rows on the repaired network (every row re-verified, exactly, on its counterfactual box).</param>
/// <param name="Patches">Patches in the repaired network.</param>
/// <param name="Proved">Whether the area repair proved the property of every repaired row region by region (or nothing needed repair).</param>
/// <param name="Rounds">Repair rounds run (more than 1 when a support made a fair row unfair and it was added).</param>
/// <param name="Seconds">Wall time of verification, repair and re-verification.</param>
/// <param name="Area">The last area repair (null when every row was fair).</param>
/// <param name="Errors">Messages with codes from the area repair.</param>
public sealed record FairnessResult(RepairedNetwork Repaired, FairnessMeasure Before, FairnessMeasure After, int Patches, bool Proved, int Rounds,
    double Seconds, AreaRepairResult? Area, IReadOnlyList<string> Errors)
{
    /// <summary>Per patch, the specification it was built and checked for (for the export).</summary>
    public IReadOnlyList<LinearSpecification> Specs => Area?.Specs ?? [];
}

/// <summary>
/// Counterfactual-fairness repair (method.md §11): a row is fair when no value of its sensitive coordinates over their
/// domain, the other coordinates held at the row's values, changes the decision. Its counterfactual box is that set; the
/// unsafe set is "decision != t" (y_i &gt;= y_t for some i != t), t the network's decision at the row. The repair
/// requires the same t on the box (or the row's label with <see cref="FairnessOptions.ToLabel"/>). Every row is verified exactly on its box (<see cref="PropertyVerifier"/>:
/// the box is low-dimensional, so its linear regions are enumerated); the unfair rows become the cases of ONE in-memory
/// VNN-LIB property and <see cref="AreaRepairer"/> repairs it into one network and proves it region by region. Every row
/// is then verified again on the repaired network; a row a support made unfair is added to the property and the repair
/// redone from the original network (up to <see cref="FairnessOptions.MaxRounds"/>).
/// </summary>
public static class FairnessRepairer
{
    /// <summary>Checks the options against a network's input width (RSR1056 for a bad index, RSR1057 for a bad domain).</summary>
    public static void Validate(Network network, FairnessOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sensitive.Count == 0) throw new ReassureException(ErrorCodes.BadSensitiveFeature, "no sensitive feature given", "--sensitive");
        foreach (int i in options.Sensitive)
            if (i < 0 || i >= network.InputSize)
                throw new ReassureException(ErrorCodes.BadSensitiveFeature, $"sensitive feature {i} is not an input of the model (0..{network.InputSize - 1})", "--sensitive");
        if (options.Sensitive.Distinct().Count() != options.Sensitive.Count)
            throw new ReassureException(ErrorCodes.BadSensitiveFeature, "a sensitive feature is given twice", "--sensitive");
        if (options.Domain is { } d)
        {
            if (d.Count != options.Sensitive.Count)
                throw new ReassureException(ErrorCodes.BadSensitiveDomain, $"{d.Count} domains for {options.Sensitive.Count} sensitive features; give one lo:hi per feature", "--domain");
            foreach (var (lo, hi) in d)
                if (!double.IsFinite(lo) || !double.IsFinite(hi) || !(lo <= hi))
                    throw new ReassureException(ErrorCodes.BadSensitiveDomain, $"domain {lo}:{hi} is not a finite interval with lo <= hi", "--domain");
        }
    }

    /// <summary>The counterfactual box of <paramref name="x"/>: sensitive coordinates over their domain, the others fixed.</summary>
    public static InputBox CounterfactualBox(ReadOnlySpan<double> x, FairnessOptions options)
    {
        var lo = x.ToArray();
        var hi = x.ToArray();
        for (int k = 0; k < options.Sensitive.Count; k++)
        {
            var (a, b) = options.Domain is { } d ? d[k] : (0.0, 1.0);
            lo[options.Sensitive[k]] = a;
            hi[options.Sensitive[k]] = b;
        }
        return new InputBox(lo, hi);
    }

    /// <summary>The case "x in the counterfactual box and the decision is not <paramref name="target"/>".</summary>
    public static VnnLibCase Case(ReadOnlySpan<double> x, int target, int outputs, FairnessOptions options)
    {
        var unsafeSet = new List<OutputConjunction>();
        for (int i = 0; i < outputs; i++)
        {
            if (i == target) continue;
            var a = new double[outputs];
            a[target] = 1; a[i] = -1; // y_t - y_i <= 0, i.e. y_i >= y_t
            unsafeSet.Add(new OutputConjunction([new OutputConstraint(a, 0)]));
        }
        return new VnnLibCase(CounterfactualBox(x, options), unsafeSet);
    }

    /// <summary>The decision the repair requires of each row's box: the network's argmax at the row, or its label.</summary>
    public static int[] Targets(Network network, RowSet rows, FairnessOptions options) =>
        Enumerable.Range(0, rows.Count).Select(r => options.ToLabel ? rows.Labels[r] : Prediction.Of(network.Evaluate(rows.Inputs[r]))).ToArray();

    /// <summary>
    /// Fairness (exact, per row on its counterfactual box) and accuracy of the original network. Fair means the decision
    /// is the same everywhere on the box as at the row itself (whatever the label; <see cref="FairnessOptions.ToLabel"/>
    /// only sets what the repair requires).
    /// </summary>
    public static FairnessMeasure Measure(Network network, RowSet rows, FairnessOptions options, CancellationToken ct = default)
    {
        Validate(network, options);
        var own = rows.Inputs.Select(x => Prediction.Of(network.Evaluate(x))).ToArray();
        return Measure(rows, own, x => network.Evaluate(x), p => PropertyVerifier.Verify(network, p, options.Area.Verification, ct), network.OutputSize, options);
    }

    /// <summary>Fairness and accuracy of a repaired network (fair: the repaired decision is the same on the box as at the row).</summary>
    public static FairnessMeasure Measure(RepairedNetwork repaired, RowSet rows, FairnessOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(repaired);
        Validate(repaired.Original, options);
        var own = rows.Inputs.Select(x => Prediction.Of(repaired.Evaluate(x))).ToArray();
        return Measure(rows, own, x => repaired.Evaluate(x), p => repaired.Patches.Count == 0
            ? PropertyVerifier.Verify(repaired.Original, p, options.Area.Verification, ct)
            : PropertyVerifier.Verify(repaired, p, options.Area.Verification, ct), repaired.Original.OutputSize, options);
    }

    private static FairnessMeasure Measure(RowSet rows, int[] targets, Func<double[], double[]> eval, Func<VnnLibProperty, VerificationResult> verify, int outputs, FairnessOptions options)
    {
        int unknown = 0, correct = 0;
        var unfair = new List<int>();
        for (int r = 0; r < rows.Count; r++)
        {
            if (Prediction.Of(eval(rows.Inputs[r])) == rows.Labels[r]) correct++;
            var x = rows.Inputs[r];
            var prop = new VnnLibProperty(x.Length, outputs, [Case(x, targets[r], outputs, options)], $"{rows.Where(r)} (counterfactual box)");
            var v = verify(prop);
            if (v.Status == VerificationStatus.Violated) unfair.Add(r);
            else if (v.Status == VerificationStatus.Unknown) unknown++;
        }
        return new FairnessMeasure(rows.Count, unfair.Count, unknown, correct, unfair);
    }

    /// <summary>Verifies every row, repairs the unfair ones into one network, proves it and re-verifies every row.</summary>
    public static FairnessResult Repair(Network network, RowSet rows, FairnessOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Validate(network, options);
        var clock = Stopwatch.StartNew();
        var targets = Targets(network, rows, options);
        var before = Measure(network, rows, options, ct);
        if (before.Unfair == 0)
        {
            var none = new RepairedNetwork(network, InputBox.Uniform(network.InputSize, 0, 1), []);
            return new FairnessResult(none, before, before, 0, true, 0, clock.Elapsed.TotalSeconds, null, []);
        }
        var included = new SortedSet<int>(before.UnfairRows);
        AreaRepairResult area;
        FairnessMeasure after;
        int round = 0;
        while (true)
        {
            round++;
            var cases = included.Select(r => Case(rows.Inputs[r], targets[r], network.OutputSize, options)).ToList();
            var property = new VnnLibProperty(network.InputSize, network.OutputSize, cases, $"counterfactual fairness of {included.Count} rows of {rows.Source}");
            area = AreaRepairer.Repair(network, property, options.Area, ct);
            after = Measure(area.Repaired, rows, options, ct);
            var added = after.UnfairRows.Where(r => !included.Contains(r)).ToList();
            if (added.Count == 0 || round >= Math.Max(1, options.MaxRounds)) break;
            foreach (int r in added) included.Add(r);
        }
        bool proved = area.After.Status == VerificationStatus.Holds;
        return new FairnessResult(area.Repaired, before, after, area.Repaired.Patches.Count, proved, round, clock.Elapsed.TotalSeconds, area, area.Errors);
    }
}
