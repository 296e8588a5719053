namespace Reassure;

/// <summary>
/// Locates the repository's test data, <c>tests/data</c> (see its PROVENANCE.md): walks up from the test's base directory
/// to the folder holding <c>Reassure.MLNet.sln</c>. Linked into every test project (and the benchmarks) from
/// <c>tests/TestData.cs</c>; fails with a clear message when the folder or a file is missing.
/// </summary>
internal static partial class TestData
{
    /// <summary>The file that marks the repository root.</summary>
    public const string SolutionFile = "Reassure.MLNet.sln";

    private static readonly Lazy<string> LazyRoot = new(() => Find(AppContext.BaseDirectory) ?? throw new InvalidOperationException(
        $"Test data not found: no folder holding {SolutionFile} and tests/data in any parent of {AppContext.BaseDirectory}."));

    /// <summary>The absolute path of the repository's <c>tests/data</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A file under <see cref="Root"/>; throws <see cref="FileNotFoundException"/> naming it when it is missing.</summary>
    public static string File(params string[] parts)
    {
        var path = Path.Combine([Root, .. parts]);
        return System.IO.File.Exists(path) ? path
            : throw new FileNotFoundException($"Test data file missing: {path} (tests/data/PROVENANCE.md lists the files).", path);
    }

    /// <summary>
    /// The <c>tests/data</c> folder of the repository that holds <paramref name="start"/>: the first parent (or itself) that
    /// holds <see cref="SolutionFile"/>, if it has <c>tests/data</c>; otherwise null.
    /// </summary>
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (!System.IO.File.Exists(Path.Combine(dir.FullName, SolutionFile))) continue;
            var data = Path.Combine(dir.FullName, "tests", "data");
            return Directory.Exists(data) ? data : null;
        }
        return null;
    }
}
