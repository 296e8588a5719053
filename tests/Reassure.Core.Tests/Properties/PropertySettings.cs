namespace Reassure.Tests.Properties;

/// <summary>
/// Iteration counts of the property tests: the CI defaults below (about 10 000 cases in all, well under a minute on two
/// cores), multiplied by <c>REASSURE_PROPERTY_SCALE</c> for a longer run (e.g. 100 for about a million fuzz cases).
/// A failing case prints its CsCheck seed; <c>CsCheck_Seed</c> replays it.
/// </summary>
internal static class PropertySettings
{
    public static long Scale { get; } =
        long.TryParse(Environment.GetEnvironmentVariable("REASSURE_PROPERTY_SCALE"), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;

    public static long Iter(long ci) => ci * Scale;
}
