using System.Text.RegularExpressions;

namespace Reassure.Packaging.Tests;

/// <summary>
/// The README's ML.NET quickstart cannot drift: the ```csharp block after <c>&lt;!-- snippet: mlnet-quickstart --&gt;</c>
/// is samples/Quickstart/Program.cs, character for character (line endings aside), and the solution build compiles that
/// file against the Reassure.MLNet project.
/// </summary>
[TestClass]
public sealed partial class ReadmeTests
{
    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    private static string Readme => File.ReadAllText(Repository.File("README.md"));

    [GeneratedRegex(@"<!-- snippet: (?<name>[a-z0-9-]+) -->\s*\n```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Snippet();

    [TestMethod]
    public void MlNetQuickstartIsTheCompiledSample()
    {
        var match = Snippet().Matches(Normalize(Readme)).SingleOrDefault(m => m.Groups["name"].Value == "mlnet-quickstart");
        Assert.IsNotNull(match, "README.md has no ```csharp block after <!-- snippet: mlnet-quickstart -->");
        string sample = Normalize(File.ReadAllText(Repository.File("samples", "Quickstart", "Program.cs")));
        Assert.AreEqual(sample, Normalize(match.Groups["code"].Value),
            "README.md's mlnet-quickstart block differs from samples/Quickstart/Program.cs: change both");
    }

    [TestMethod]
    public void InstallLinesNameThePackageVersion()
    {
        string readme = Readme;
        StringAssert.Contains(readme, $"dotnet tool install --global Reassure.Cli --version {Repository.Version}");
        StringAssert.Contains(readme, $"dotnet add package Reassure.MLNet --version {Repository.Version}");
        StringAssert.Contains(readme, $"<PackageReference Include=\"Reassure.MLNet.Build\" Version=\"{Repository.Version}\" PrivateAssets=\"all\" />");
    }

    [TestMethod]
    public void NoPathOutsideTheRepository()
    {
        string outside = string.Join('/', "shared", "design"); // not written out, or this file would match
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Repository.Root, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(Repository.Root, file).Replace('\\', '/');
            if (relative.Split('/').Any(p => p is "bin" or "obj" or ".git" or "artifacts" or "TestResults")) continue;
            if (Path.GetExtension(file) is not (".cs" or ".md" or ".csproj" or ".props" or ".targets" or ".cc")) continue;
            if (File.ReadAllText(file).Contains(outside, StringComparison.Ordinal)) offenders.Add(relative);
        }
        CollectionAssert.AreEqual(Array.Empty<string>(), offenders, "these cite a design folder outside the repository; the method is docs/method.md");
    }
}
