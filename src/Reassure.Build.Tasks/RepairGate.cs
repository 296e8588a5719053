using System.Globalization;
using Microsoft.Build.Utilities;
using Reassure.Networks;

namespace Reassure.Build.Tasks;

/// <summary>
/// The release gate on a repair result: RSR2001 a buggy row not fixed, RSR2002 accuracy on the regression rows below
/// the allowed level, RSR2003 a regression row outside every support whose output changed (locality). Each error names
/// the file and the line. The checks read the result; they never repair anything themselves.
/// </summary>
internal static class RepairGate
{
    private const double Tolerance = 1e-12;

    /// <summary>Checks <paramref name="result"/> (null: nothing was repaired, the model is the original).</summary>
    public static GateFigures Check(TaskLoggingHelper log, Network original, RepairedView? result, RowsFile? buggy, RowsFile? regression, GateSettings settings)
    {
        Func<double[], double[]> repaired = result is null ? x => original.Evaluate(x) : result.Evaluate;

        // RSR2001: every buggy row fixed.
        int fixedRows = 0, alreadyCorrect = 0;
        if (buggy is not null && result is not null)
        {
            for (int r = 0; r < buggy.Count; r++)
            {
                int label = buggy.Rows.Labels[r];
                if (Accuracy.ArgMax(original.Evaluate(buggy.Rows.Inputs[r])) == label)
                {
                    alreadyCorrect++;
                    log.Warning(BuildCodes.RowAlreadyCorrect, buggy.Path, buggy.Lines[r], Resources.BuggyRowAlreadyCorrect, buggy.Name(r), label);
                }
                var status = result.Inputs[r];
                if (status.Fixed && status.FixedFloat32 != false) { fixedRows++; continue; }
                string why = status.ErrorCode is null ? status.Message ?? "" : $"{status.ErrorCode} {status.Message}";
                log.Error(ErrorCodes.GateNotFixed, buggy.Path, buggy.Lines[r], Resources.RowNotFixed, buggy.Name(r), label, why);
            }
        }

        // RSR2002 and RSR2003 on the regression rows.
        int correctBefore = 0, correctAfter = 0, outside = 0, violations = 0;
        double required = settings.MinAccuracy ?? 0;
        if (regression is not null)
        {
            var rows = regression.Rows;
            correctBefore = Accuracy.Correct(x => original.Evaluate(x), rows.Inputs, rows.Labels);
            correctAfter = Accuracy.Correct(repaired, rows.Inputs, rows.Labels);
            int n = rows.Count;
            double before = (double)correctBefore / n, after = (double)correctAfter / n;
            double byDrop = before - settings.MaxAccuracyDrop / 100;
            required = Math.Max(byDrop, settings.MinAccuracy ?? double.NegativeInfinity);
            if (after < byDrop - Tolerance)
                log.Error(ErrorCodes.GateAccuracy, regression.Path, 0, Resources.AccuracyDropped,
                    Accuracy.Percent(before), correctBefore, n, Accuracy.Percent(after), correctAfter,
                    settings.MaxAccuracyDrop.ToString("0.###", CultureInfo.InvariantCulture), Accuracy.Percent(Math.Max(byDrop, 0)));
            if (settings.MinAccuracy is double floor && after < floor - Tolerance)
                log.Error(ErrorCodes.GateAccuracy, regression.Path, 0, Resources.AccuracyBelowFloor,
                    Accuracy.Percent(after), correctAfter, n, Accuracy.Percent(before), Accuracy.Percent(floor));

            if (result is not null)
            {
                for (int r = 0; r < n; r++)
                {
                    var x = rows.Inputs[r];
                    if (result.InAnySupport(x)) continue;
                    outside++;
                    double[] yOriginal = original.Evaluate(x), yRepaired = result.Evaluate(x);
                    if (SameBits(yOriginal, yRepaired)) continue;
                    violations++;
                    log.Error(ErrorCodes.GateLocality, regression.Path, regression.Lines[r], Resources.LocalityViolated,
                        regression.Name(r), Join(yRepaired), Join(yOriginal));
                }
            }
            else
            {
                outside = n;
            }
        }

        return new GateFigures(buggy?.Count ?? 0, result is null ? 0 : fixedRows, alreadyCorrect,
            regression?.Count ?? 0, correctBefore, correctAfter, required, outside, violations,
            Passed: !log.HasLoggedErrors);
    }

    private static bool SameBits(double[] a, double[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (BitConverter.DoubleToInt64Bits(a[i]) != BitConverter.DoubleToInt64Bits(b[i])) return false;
        return true;
    }

    private static string Join(double[] y) => string.Join(", ", y.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
