namespace Reassure.Tests;

/// <summary>
/// Locates the shared data folder: walks up from the test's base directory until a folder holding <c>shared/data</c>
/// is found (the repository and <c>shared/</c> sit side by side). Fails with a clear message when it is missing.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> LazyRoot = new(Find);

    /// <summary>The absolute path of <c>shared/data</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A path under <see cref="Root"/>.</summary>
    public static string File(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"Test data not found: no folder 'shared/data' in any parent of {AppContext.BaseDirectory}. " +
            "Expected the repository checkout next to 'shared/' (e.g. /work/<repo> and /work/shared/data).");
    }
}
