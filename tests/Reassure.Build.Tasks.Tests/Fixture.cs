namespace Reassure.Build.Tasks.Tests;

/// <summary>A temporary folder with copies of the sample's model and rows.</summary>
internal sealed class Fixture : IDisposable
{
    public Fixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "reassure-build-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures")))
            File.Copy(file, Path.Combine(Folder, Path.GetFileName(file)));
    }

    public string Folder { get; }

    public string Model => PathOf("classifier.onnx");
    public string Buggy => PathOf("buggy.csv");
    public string Regression => PathOf("regression.csv");
    public string Output => PathOf("out/classifier.repaired.onnx");
    public string Manifest => PathOf("out/classifier.repaired.manifest.json");
    public string Report => PathOf("out/classifier.repaired.report.md");

    public string PathOf(string name) => Path.Combine(Folder, name);

    public string Write(string name, string text)
    {
        File.WriteAllText(PathOf(name), text);
        return PathOf(name);
    }

    /// <summary>The task on this fixture's files, with the sample's gamma, and the engine it logs to.</summary>
    public (RepairModel Task, FakeBuildEngine Engine) Task()
    {
        var engine = new FakeBuildEngine();
        var task = new RepairModel
        {
            BuildEngine = engine,
            Model = Model,
            BuggyRows = Buggy,
            RegressionRows = Regression,
            Output = Output,
            Gamma = "100",
        };
        return (task, engine);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
