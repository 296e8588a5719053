using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Reassure.Packaging.Tests;

/// <summary>
/// The `reassure` tool as a user gets it: `dotnet pack` of src/Reassure.Cli into a temporary folder, `dotnet tool
/// install` from that folder only (a nuget.config that clears every other source), then `reassure --version`.
/// The pack is limited to this machine's runtime identifier (the RID-specific package the install picks here, plus
/// the Reassure.Cli package that points to it), so the test does not publish the other two platforms.
/// </summary>
[TestClass]
public sealed class ToolPackageTests
{
    [TestMethod]
    [TestCategory("Packaging")]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void PackedToolInstallsAndPrintsTheVersion()
    {
        string rid = RuntimeInformation.RuntimeIdentifier;
        // The tool ships for these three desktop runtimes only; on any other machine this test fails and says so.
        Assert.IsTrue(rid is "linux-x64" or "win-x64" or "osx-arm64", $"the tool is packed for linux-x64, win-x64 and osx-arm64, not {rid}");

        var dir = Directory.CreateTempSubdirectory("reassure-tool-");
        try
        {
            string packages = Path.Combine(dir.FullName, "packages");
            string tools = Path.Combine(dir.FullName, "tools");
            var clock = Stopwatch.StartNew();

            var (packCode, packOutput) = Repository.Run("dotnet", Repository.Root, TimeSpan.FromMinutes(8),
                "pack", Repository.File("src", "Reassure.Cli", "Reassure.Cli.csproj"), "-c", Repository.Configuration,
                "-o", packages, "-nodeReuse:false", "-p:UseSharedCompilation=false", $"-p:ToolPackageRuntimeIdentifiers={rid}");
            Assert.AreEqual(0, packCode, packOutput);
            var packed = Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName).Order().ToArray();
            CollectionAssert.AreEqual(new[] { $"Reassure.Cli.{Repository.Version}.nupkg", $"Reassure.Cli.{rid}.{Repository.Version}.nupkg" }, packed);
            long ridBytes = new FileInfo(Path.Combine(packages, $"Reassure.Cli.{rid}.{Repository.Version}.nupkg")).Length;
            Assert.IsLessThan(80L << 20, ridBytes, $"the {rid} tool package is {ridBytes / 1e6:F1} MB");
            Console.WriteLine($"pack {clock.Elapsed.TotalSeconds:F1} s; {rid} package {ridBytes / 1e6:F1} MB");

            string config = Path.Combine(dir.FullName, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{packages}" />
                  </packageSources>
                </configuration>
                """);
            var (installCode, installOutput) = Repository.Run("dotnet", dir.FullName, TimeSpan.FromMinutes(5),
                "tool", "install", "--tool-path", tools, "--configfile", config, "Reassure.Cli", "--version", Repository.Version);
            Assert.AreEqual(0, installCode, installOutput);
            Console.WriteLine($"install {clock.Elapsed.TotalSeconds:F1} s");

            string reassure = Path.Combine(tools, OperatingSystem.IsWindows() ? "reassure.exe" : "reassure");
            var (code, output) = Repository.Run(reassure, dir.FullName, TimeSpan.FromMinutes(1), "--version");
            Assert.AreEqual(0, code, output);
            Assert.AreEqual(Repository.Version, output.Trim(), "reassure --version prints the package version, without a +commit suffix");
            Assert.AreEqual("0.2.0", Repository.Version, "the version of Directory.Build.props that the README's install lines name");
            Console.WriteLine($"reassure --version: {output.Trim()} ({clock.Elapsed.TotalSeconds:F1} s in all)");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
