using System.Globalization;
using Microsoft.Build.Utilities;

namespace Reassure.Build.Tasks;

/// <summary>Errors and warnings with a stable code, a file and a line, from a resource format string.</summary>
internal static class TaskLogExtensions
{
    public static void Error(this TaskLoggingHelper log, string code, string? file, int line, string format, params object?[] args) =>
        log.LogError(null, code, null, file, line, 0, 0, 0, Format(format, args));

    public static void Warning(this TaskLoggingHelper log, string code, string? file, int line, string format, params object?[] args) =>
        log.LogWarning(null, code, null, file, line, 0, 0, 0, Format(format, args));

    /// <summary>An engine error: its code, its file, and the line when the location names one ("x.csv, line 7").</summary>
    public static void Error(this TaskLoggingHelper log, ReassureException error, string? file) =>
        log.LogError(null, error.Code, null, file, LineOf(error.Location), 0, 0, 0,
            error.Location is null ? error.Detail : $"{error.Location}: {error.Detail}");

    public static string Format(string format, params object?[] args) =>
        args.Length == 0 ? format : string.Format(CultureInfo.InvariantCulture, format, args);

    private static int LineOf(string? location)
    {
        if (location is null) return 0;
        int at = location.IndexOf("line ", StringComparison.Ordinal);
        if (at < 0) return 0;
        int start = at + 5, end = start;
        while (end < location.Length && char.IsAsciiDigit(location[end])) end++;
        return int.TryParse(location.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture, out int line) ? line : 0;
    }
}
