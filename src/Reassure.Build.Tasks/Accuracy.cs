namespace Reassure.Build.Tasks;

/// <summary>Accuracy as text (the figures come from Core's <c>RegressionCheck</c>).</summary>
internal static class Accuracy
{
    /// <summary>A fraction as a percentage with two decimals, e.g. "98.50 %".</summary>
    public static string Percent(double fraction) => double.IsNaN(fraction) ? "n/a" :
        (fraction * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
