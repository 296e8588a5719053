using Reassure.Networks;
using Reassure.Patching;

namespace Reassure.Repair;

/// <summary>
/// What a repair did to labelled rows it was not asked to change: accuracy before and after, and locality (method.md
/// §6: outside the union of supports the output is bit-for-bit the original's). Computed once here for every front
/// door (MSBuild gate, ML.NET fit report, CLI, reports).
/// </summary>
/// <param name="Rows">Rows checked.</param>
/// <param name="CorrectBefore">Rows the original model predicts as their label.</param>
/// <param name="CorrectAfter">Rows the repaired model predicts as their label.</param>
/// <param name="OutsideSupports">Rows outside every patch support (the rows locality speaks about).</param>
/// <param name="LocalityViolations">Of those, the row indices whose output is not bit-identical to the original's.</param>
/// <param name="Regressed">Rows the original model got right and the repaired one gets wrong.</param>
/// <param name="RegressedInSupport">Of those, the rows inside some patch support (a support reaching past its region: a higher gamma narrows it).</param>
public sealed record RegressionOutcome(int Rows, int CorrectBefore, int CorrectAfter, int OutsideSupports, IReadOnlyList<int> LocalityViolations,
    IReadOnlyList<int> Regressed, int RegressedInSupport)
{
    /// <summary>Accuracy of the original model, NaN without rows.</summary>
    public double AccuracyBefore => Rows == 0 ? double.NaN : (double)CorrectBefore / Rows;

    /// <summary>Accuracy of the repaired model, NaN without rows.</summary>
    public double AccuracyAfter => Rows == 0 ? double.NaN : (double)CorrectAfter / Rows;
}

/// <summary>Measures <see cref="RegressionOutcome"/>; predictions by <see cref="Prediction.Of"/>.</summary>
public static class RegressionCheck
{
    /// <summary>The outcome of <paramref name="repaired"/> (null: nothing repaired, the original runs) on labelled rows.</summary>
    public static RegressionOutcome Measure(Network original, RepairedNetwork? repaired, IReadOnlyList<double[]> inputs, IReadOnlyList<int> labels, bool argMin = false)
    {
        ArgumentNullException.ThrowIfNull(original);
        return repaired is null
            ? Measure(x => original.Evaluate(x), null, null, inputs, labels, argMin)
            : Measure(x => original.Evaluate(x), x => repaired.Evaluate(x), x => repaired.InAnySupport(x), inputs, labels, argMin);
    }

    /// <summary>
    /// The same from evaluation functions (a front door may run the model its own way); <paramref name="repaired"/>
    /// null means nothing was repaired: accuracy after = before, every row outside, no violation.
    /// </summary>
    public static RegressionOutcome Measure(Func<double[], double[]> original, Func<double[], double[]>? repaired, Func<double[], bool>? inAnySupport,
        IReadOnlyList<double[]> inputs, IReadOnlyList<int> labels, bool argMin = false)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (inputs.Count != labels.Count) throw new ArgumentException($"{inputs.Count} inputs but {labels.Count} labels", nameof(labels));
        int before = 0, after = 0, outside = 0, regressedInSupport = 0;
        var violations = new List<int>();
        var regressed = new List<int>();
        for (int r = 0; r < inputs.Count; r++)
        {
            var y0 = original(inputs[r]);
            bool right0 = Prediction.Of(y0, argMin) == labels[r];
            if (right0) before++;
            if (repaired is null)
            {
                if (right0) after++;
                outside++;
                continue;
            }
            var y1 = repaired(inputs[r]);
            bool right1 = Prediction.Of(y1, argMin) == labels[r];
            if (right1) after++;
            bool inSupport = inAnySupport is not null && inAnySupport(inputs[r]);
            if (right0 && !right1)
            {
                regressed.Add(r);
                if (inSupport) regressedInSupport++;
            }
            if (inSupport) continue;
            outside++;
            if (!SameBits(y0, y1)) violations.Add(r);
        }
        return new RegressionOutcome(inputs.Count, before, after, outside, violations, regressed, regressedInSupport);
    }

    /// <summary>Whether two outputs are bit-for-bit equal.</summary>
    public static bool SameBits(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (BitConverter.DoubleToInt64Bits(a[i]) != BitConverter.DoubleToInt64Bits(b[i])) return false;
        return true;
    }
}

/// <summary>The predicted label of an output vector: index of the largest (or, ACAS Xu style, smallest) score, first on ties.</summary>
public static class Prediction
{
    /// <summary>argmax (or argmin) of <paramref name="y"/>; the first index on ties; -1 for an empty vector.</summary>
    public static int Of(ReadOnlySpan<double> y, bool argMin = false)
    {
        if (y.Length == 0) return -1;
        int best = 0;
        for (int i = 1; i < y.Length; i++)
            if (argMin ? y[i] < y[best] : y[i] > y[best]) best = i;
        return best;
    }
}
