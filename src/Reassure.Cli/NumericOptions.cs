using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Reassure.Cli;

/// <summary>
/// The one parser of every numeric option of every verb: invariant culture, finite, inside the option's range. A
/// value with a ',' is rejected (ambiguous decimal separator: "0,5" is not read as 5 nor as 0.5). A bad value is a
/// parse error <c>RSR1060: --name: value 'text' ...; expected ...</c>, so the verb exits 2 before any work.
/// </summary>
internal static class NumericOptions
{
    /// <summary>The largest time budget in seconds (about 11.6 days); larger values are a typo, not a budget.</summary>
    public const double MaxSeconds = 1e6;

    /// <summary>A double option with a default, in (min, max] (or [min, max] when <paramref name="minInclusive"/>).</summary>
    public static Option<double> Double(string name, string description, double defaultValue, double min, bool minInclusive, double max)
    {
        var option = new Option<double>(name) { Description = description + $" Range: {Range(min, minInclusive, max)}.", DefaultValueFactory = _ => defaultValue };
        option.CustomParser = r => ParseDouble(r, name, min, minInclusive, max) ?? defaultValue;
        return option;
    }

    /// <summary>An optional double option in (min, max] (or [min, max]); null when not given.</summary>
    public static Option<double?> OptionalDouble(string name, string description, double min, bool minInclusive, double max)
    {
        var option = new Option<double?>(name) { Description = description + $" Range: {Range(min, minInclusive, max)}." };
        option.CustomParser = r => ParseDouble(r, name, min, minInclusive, max);
        return option;
    }

    /// <summary>An int option with a default, in [min, max].</summary>
    public static Option<int> Int(string name, string description, Func<int> defaultValue, int min, int max)
    {
        var option = new Option<int>(name) { Description = description + $" Range: {min}..{max}.", DefaultValueFactory = _ => defaultValue() };
        option.CustomParser = r => ParseInt(r, name, min, max) ?? defaultValue();
        return option;
    }

    /// <summary>An optional int option in [min, max]; null when not given.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max)
    {
        var option = new Option<int?>(name) { Description = description + $" Range: {min}..{max}." };
        option.CustomParser = r => ParseInt(r, name, min, max);
        return option;
    }

    /// <summary>"(0, 1e6]" style range text.</summary>
    public static string Range(double min, bool minInclusive, double max) =>
        string.Create(CultureInfo.InvariantCulture, $"{(minInclusive ? "[" : "(")}{min:R}, {(double.IsPositiveInfinity(max) ? "inf)" : $"{max:R}]")}");

    private static double? ParseDouble(ArgumentResult r, string name, double min, bool minInclusive, double max)
    {
        if (r.Tokens.Count == 0) return null;
        var text = r.Tokens[^1].Value;
        string expected = $"expected a finite number in {Range(min, minInclusive, max)} written with '.' as the decimal separator (invariant culture)";
        if (text.Contains(',', StringComparison.Ordinal))
        {
            Fail(r, name, text, "has a ',' (ambiguous decimal separator)", expected);
            return null;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            Fail(r, name, text, "is not a number", expected);
            return null;
        }
        if (!double.IsFinite(value))
        {
            Fail(r, name, text, "is not finite", expected);
            return null;
        }
        if (value < min || (value == min && !minInclusive) || value > max)
        {
            Fail(r, name, text, "is out of range", expected);
            return null;
        }
        return value;
    }

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        if (r.Tokens.Count == 0) return null;
        var text = r.Tokens[^1].Value;
        string expected = string.Create(CultureInfo.InvariantCulture, $"expected an integer in {min}..{max}");
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var value))
        {
            Fail(r, name, text, text.Contains(',', StringComparison.Ordinal) ? "has a ','" : "is not an integer", expected);
            return null;
        }
        if (value < min || value > max)
        {
            Fail(r, name, text, "is out of range", expected);
            return null;
        }
        return (int)value;
    }

    private static void Fail(ArgumentResult r, string name, string text, string what, string expected) =>
        r.AddError($"{ErrorCodes.InvalidOption}: {name}: value '{text}' {what}; {expected}");

    /// <summary>The same range check for values that reach a verb without the parser (direct calls): RSR1060.</summary>
    public static void Require(string name, double value, double min, bool minInclusive, double max)
    {
        if (double.IsFinite(value) && value <= max && (value > min || (minInclusive && value == min))) return;
        throw new ReassureException(ErrorCodes.InvalidOption,
            string.Create(CultureInfo.InvariantCulture, $"value '{value:R}' is out of range; expected a finite number in {Range(min, minInclusive, max)}"), name);
    }
}
