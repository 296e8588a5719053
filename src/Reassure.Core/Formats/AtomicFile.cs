namespace Reassure.Formats;

/// <summary>
/// Atomic file replacement: the content is written to a temporary file (<c>.rsr-XXXXXXXX.tmp</c>, short so that any
/// valid target name works) in the target's folder, flushed to disk, then moved over the target with
/// <see cref="File.Move(string, string, bool)"/>. Readers see either the old file or the new one, never a half-written
/// file. Temporary files are deleted on every exit path.
/// <see cref="WriteAll"/> commits several files together: every target is checked and every temporary file written
/// before the first rename, then the renames run in the given order (put the file that vouches for the others, e.g.
/// a manifest carrying their hash, last).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes) => WriteAll([(path, bytes.ToArray())]);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        WriteAll([(path, bytes)]);
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, Utf8(text));
    }

    /// <summary>UTF-8 without BOM.</summary>
    public static byte[] Utf8(string text) => new System.Text.UTF8Encoding(false).GetBytes(text);

    /// <summary>Lets <paramref name="write"/> fill a stream that replaces <paramref name="path"/> atomically once it returns.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Target(path);
        var temp = CreateTemp(full, write);
        try
        {
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            Delete(temp);
        }
    }

    /// <summary>
    /// Writes every file: checks every target (RSR1071 for a target that is an existing directory or a folder that
    /// cannot be created, before anything is written), writes all temporary files, then renames them in list order.
    /// Temporary files are removed whatever happens. A failure during the renames can leave the earlier targets
    /// replaced; a manifest renamed last that carries the others' hash lets a reader detect that.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var targets = files.Select(f => Target(f.Path)).ToArray();
        var temps = new List<string>(files.Count);
        try
        {
            for (int i = 0; i < files.Count; i++)
            {
                var bytes = files[i].Bytes ?? throw new ArgumentException($"No bytes for '{files[i].Path}'.", nameof(files));
                temps.Add(CreateTemp(targets[i], s => s.Write(bytes)));
            }
            for (int i = 0; i < files.Count; i++)
            {
                if (Directory.Exists(targets[i])) throw NotWritable(targets[i], "it is an existing directory; expected a file path");
                File.Move(temps[i], targets[i], overwrite: true);
            }
        }
        finally
        {
            foreach (var t in temps) Delete(t);
        }
    }

    /// <summary>
    /// The full path of a target after the checks: not an existing directory, its folder exists or can be created
    /// (RSR1071 otherwise).
    /// </summary>
    public static string Target(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw NotWritable(full, "it is an existing directory; expected a file path");
        var folder = Path.GetDirectoryName(full) ?? ".";
        if (File.Exists(folder)) throw NotWritable(full, $"its folder '{folder}' is a file; expected a directory");
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(full, $"its folder cannot be created: {e.Message}");
        }
        return full;
    }

    private static ReassureException NotWritable(string path, string why) =>
        new(ErrorCodes.OutputNotWritable, $"cannot write the output: {why}", path);

    private static string CreateTemp(string full, Action<Stream> write)
    {
        var folder = Path.GetDirectoryName(full) ?? ".";
        for (int attempt = 0; ; attempt++)
        {
            var temp = Path.Combine(folder, $".rsr-{Random.Shared.Next():x8}.tmp");
            FileStream stream;
            try
            {
                stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            }
            catch (IOException) when (File.Exists(temp) && attempt < 16)
            {
                continue;
            }
            try
            {
                using (stream)
                {
                    write(stream);
                    stream.Flush(flushToDisk: true);
                }
                return temp;
            }
            catch
            {
                Delete(temp);
                throw;
            }
        }
    }

    private static void Delete(string temp)
    {
        try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
