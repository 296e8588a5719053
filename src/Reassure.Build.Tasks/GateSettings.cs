using System.Globalization;
using Microsoft.Build.Utilities;
using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>The task's thresholds and mode, parsed in the invariant culture and checked.</summary>
/// <param name="MaxAccuracyDrop">Allowed accuracy drop on the regression rows, percentage points (0..100).</param>
/// <param name="MinAccuracy">Absolute accuracy floor on the regression rows (0..1), or null.</param>
/// <param name="Mode">Patch mode.</param>
/// <param name="Margin">Classification margin of the buggy rows' specifications, or null for the engine's default.</param>
/// <param name="Gamma">Starting support sharpness (RepairOptions.Gamma), or null for the engine's default.</param>
internal sealed record GateSettings(double MaxAccuracyDrop, double? MinAccuracy, PatchMode Mode, double? Margin, double? Gamma = null)
{
    /// <summary>Parses the raw task parameters; logs RSR1060 and returns null when one is bad.</summary>
    public static GateSettings? Parse(TaskLoggingHelper log, string? maxAccuracyDrop, string? minAccuracy, string? mode, string? margin, string? gamma = null)
    {
        double drop = Number(log, "ReassureMaxAccuracyDrop", maxAccuracyDrop, 0, 100, "percentage points 0..100") ?? 0;
        double? floor = Number(log, "ReassureMinAccuracy", minAccuracy, 0, 1, "a fraction 0..1");
        double? marginValue = Number(log, "ReassureMargin", margin, double.Epsilon, double.MaxValue, "a positive number");
        double? gammaValue = Number(log, "ReassureGamma", gamma, double.Epsilon, double.MaxValue, "a positive number");
        PatchMode patchMode = PatchMode.Fast;
        switch ((mode ?? "").Trim().ToLowerInvariant())
        {
            case "" or "fast": break;
            case "minimal": patchMode = PatchMode.Minimal; break;
            default: log.Error(BuildCodes.InvalidParameter, null, 0, Resources.ModeUnknown, mode); break;
        }
        return log.HasLoggedErrors ? null : new GateSettings(drop, floor, patchMode, marginValue, gammaValue);
    }

    private static double? Number(TaskLoggingHelper log, string name, string? text, double min, double max, string expected)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            log.Error(BuildCodes.InvalidParameter, null, 0, Resources.ParameterNotNumber, name, text, expected);
            return null;
        }
        if (value < min || value > max)
        {
            log.Error(BuildCodes.InvalidParameter, null, 0, Resources.ParameterOutOfRange, name, text, expected);
            return null;
        }
        return value;
    }
}
