using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Reassure.Tests;

[TestClass]
public sealed partial class TestDataTests
{
    /// <summary>A file row of a table in tests/data/PROVENANCE.md: | `path` | bytes | `sha256` |.</summary>
    [GeneratedRegex(@"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$")]
    private static partial Regex FileRow();

    [TestMethod]
    public void DataIsTheRepositorysOwn()
    {
        var repository = Path.GetDirectoryName(Path.GetDirectoryName(TestData.Root))!;
        Assert.AreEqual("data", Path.GetFileName(TestData.Root));
        Assert.IsTrue(File.Exists(Path.Combine(repository, TestData.SolutionFile)), $"{TestData.Root} is not the tests/data of a clone");
    }

    [TestMethod]
    public void EveryFileIsListedInProvenanceWithItsSizeAndSha256()
    {
        var listed = File.ReadLines(TestData.File("PROVENANCE.md")).Select(l => FileRow().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => (Bytes: long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), Sha256: m.Groups[3].Value));
        var present = Directory.EnumerateFiles(TestData.Root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestData.Root, f).Replace('\\', '/'))
            .Where(f => f is not ("PROVENANCE.md" or "LICENSE-REASSURE.txt" or ".gitattributes"))
            .Order(StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEquivalent(listed.Keys.ToArray(), present, "files in tests/data and rows of its PROVENANCE.md");
        foreach (var (file, (bytes, sha256)) in listed)
        {
            var content = File.ReadAllBytes(TestData.File(file.Split('/')));
            Assert.AreEqual(bytes, content.LongLength, file);
            Assert.AreEqual(sha256, Convert.ToHexStringLower(SHA256.HashData(content)), file);
        }
    }
}
