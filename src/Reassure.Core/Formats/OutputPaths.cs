namespace Reassure.Formats;

/// <summary>
/// The check every front door that writes runs before any work: each output path differs from every other output and
/// from every input (full paths after resolving a symbolic link to its final target; case-sensitive on Linux,
/// case-insensitive on Windows and macOS), RSR1070 otherwise; an output that is an existing directory is RSR1071.
/// </summary>
public static class OutputPaths
{
    private static readonly StringComparison Comparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>Throws RSR1070 or RSR1071 as described; null paths (options not given) are skipped.</summary>
    /// <param name="inputs">Inputs as (option or role, path).</param>
    /// <param name="outputs">Outputs as (option or role, path).</param>
    public static void Check(IEnumerable<(string Role, string? Path)> inputs, IEnumerable<(string Role, string? Path)> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var seenInputs = inputs.Where(i => !string.IsNullOrEmpty(i.Path)).Select(i => (i.Role, Full: Canonical(i.Path!))).ToList();
        var seenOutputs = new List<(string Role, string Full)>();
        foreach (var (role, path) in outputs)
        {
            if (string.IsNullOrEmpty(path)) continue;
            var full = Canonical(path);
            if (Directory.Exists(full))
                throw new ReassureException(ErrorCodes.OutputNotWritable, $"{role} is an existing directory; expected a file path", path);
            foreach (var (inRole, inFull) in seenInputs)
                if (string.Equals(full, inFull, Comparison))
                    throw new ReassureException(ErrorCodes.OutputCollision, $"{role} is the same file as the input {inRole} ({inFull}); writing it would destroy the input. Expected a different path", path);
            foreach (var (outRole, outFull) in seenOutputs)
                if (string.Equals(full, outFull, Comparison))
                    throw new ReassureException(ErrorCodes.OutputCollision, $"{role} is the same file as the output {outRole} ({outFull}); one would overwrite the other. Expected a different path", path);
            seenOutputs.Add((role, full));
        }
    }

    /// <summary>The full path, through a symbolic link to its final target when the path is one.</summary>
    public static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return full;
        }
    }
}
