namespace Reassure.Build.Tasks.Tests;

/// <summary>
/// Real `dotnet build -nodeReuse:false` runs on Fixtures/GateFixture.csproj (about 5-20 s each; kept few on purpose).
/// </summary>
[TestClass]
public sealed class BuildIntegrationTests
{
    private const string RepairTarget = "_ReassureRepairModels";

    private static Fixture Project()
    {
        var f = new Fixture();
        Assert.IsTrue(File.Exists(DotnetBuild.TasksAssembly), $"the task is not built: {DotnetBuild.TasksAssembly}");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "GateFixture.csproj"), f.PathOf("GateFixture.csproj"), overwrite: true);
        return f;
    }

    [TestMethod]
    public void PassingGate_PutsTheRepairedModelInTheOutput_SecondBuildSkipsTheRepair_ChangedRowsRepairAgain()
    {
        using var f = Project();
        string repaired = f.PathOf("obj/Debug/net10.0/reassure/classifier.repaired.onnx");
        string copied = f.PathOf("bin/Debug/net10.0/classifier.repaired.onnx");

        var (code, log) = DotnetBuild.Run(f.Folder);
        Assert.AreEqual(0, code, log);
        StringAssert.Contains(log, "Reassure: classifier.onnx: fixed 5/5 buggy rows");
        Assert.IsTrue(File.Exists(copied), log);
        Assert.IsTrue(File.Exists(f.PathOf("obj/Debug/net10.0/reassure/classifier.repaired.report.html")), "the task host loads the chart library: " + log);
        Assert.DoesNotContain("RSR2104", log);
        CollectionAssert.AreEqual(File.ReadAllBytes(repaired), File.ReadAllBytes(copied));
        var written = File.GetLastWriteTimeUtc(repaired);

        (code, log) = DotnetBuild.Run(f.Folder);
        Assert.AreEqual(0, code, log);
        StringAssert.Contains(log, $"Skipping target \"{RepairTarget}\" because all output files are up-to-date");
        Assert.DoesNotContain("Reassure: classifier.onnx: fixed", log);
        Assert.AreEqual(written, File.GetLastWriteTimeUtc(repaired));

        File.SetLastWriteTimeUtc(f.Regression, DateTime.UtcNow.AddSeconds(2));
        (code, log) = DotnetBuild.Run(f.Folder);
        Assert.AreEqual(0, code, log);
        StringAssert.Contains(log, "Reassure: classifier.onnx: fixed 5/5 buggy rows");
    }

    [TestMethod]
    public void Regression_FailsTheBuildWithItsCode_DisablingSkipsTheGate()
    {
        using var f = Project();
        var (code, log) = DotnetBuild.Run(f.Folder);
        Assert.AreEqual(0, code, log);
        Assert.IsTrue(File.Exists(f.PathOf("bin/Debug/net10.0/classifier.repaired.onnx")), "a passing build copies the repaired model");

        // A failing gate removes the copy the passing build left in the output directory.
        (code, log) = DotnetBuild.Run(f.Folder, "-p:ReassureMinAccuracy=1.0");
        Assert.AreNotEqual(0, code, log);
        StringAssert.Contains(log, "error RSR2002");
        StringAssert.Contains(log, "regression.csv");
        Assert.IsFalse(File.Exists(f.PathOf("bin/Debug/net10.0/classifier.repaired.onnx")), log);

        (code, log) = DotnetBuild.Run(f.Folder, "-p:ReassureMinAccuracy=1.0", "-p:ReassureRepairEnabled=false");
        Assert.AreEqual(0, code, log);
        Assert.DoesNotContain("RSR2002", log);
        Assert.DoesNotContain(RepairTarget, log);
        Assert.IsFalse(File.Exists(f.PathOf("bin/Debug/net10.0/classifier.repaired.onnx")));
    }
}
