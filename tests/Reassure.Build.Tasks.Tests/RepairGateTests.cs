using Microsoft.Build.Utilities;
using Reassure.Formats.Onnx;
using Reassure.Repair;

namespace Reassure.Build.Tasks.Tests;

/// <summary>The gate on a repaired model it is handed, including one that breaks locality.</summary>
[TestClass]
public sealed class RepairGateTests
{
    private static readonly GateSettings Defaults = new(0, null, PatchMode.Fast, null);

    [TestMethod]
    public void OutputChangedOutsideEverySupport_FailsWithRSR2003_AtTheRowsLine()
    {
        using var f = new Fixture();
        var original = OnnxImporter.Load(f.Model).Network;
        var regression = RowsFile.Read(f.Regression, 2, original.OutputSize);
        var target = regression.Rows.Inputs[6];
        // A "repaired" model that nudges one row's output by one ulp although no support is active there.
        var broken = new RepairedView(
            x => x == target ? original.Evaluate(x).Select(v => Math.BitIncrement(v)).ToArray() : original.Evaluate(x),
            _ => false, []);
        var (log, engine) = Log();

        var figures = RepairGate.Check(log, original, broken, null, regression, Defaults);

        var error = engine.Errors.Single();
        Assert.AreEqual("RSR2003", error.Code);
        Assert.AreEqual(f.Regression, error.File);
        Assert.AreEqual(regression.Lines[6], error.LineNumber);
        Assert.AreEqual(8, error.LineNumber, "header on line 1, row 7 on line 8");
        Assert.AreEqual(1, figures.LocalityViolations);
        Assert.IsFalse(figures.Passed);
    }

    [TestMethod]
    public void ChangedRowsInsideASupport_AreNotLocalityErrors()
    {
        using var f = new Fixture();
        var original = OnnxImporter.Load(f.Model).Network;
        var regression = RowsFile.Read(f.Regression, 2, original.OutputSize);
        var shifted = new RepairedView(x => original.Evaluate(x).Select(v => Math.BitIncrement(v)).ToArray(), _ => true, []);
        var (log, engine) = Log();

        var figures = RepairGate.Check(log, original, shifted, null, regression, Defaults);

        Assert.IsEmpty(engine.Errors, engine.Describe());
        Assert.AreEqual(0, figures.OutsideSupports);
        Assert.IsTrue(figures.Passed);
    }

    [TestMethod]
    public void AccuracyExactlyAtTheAllowedDrop_Passes_OneRowBelow_Fails()
    {
        using var f = new Fixture();
        var original = OnnxImporter.Load(f.Model).Network;
        var regression = RowsFile.Read(f.Regression, 2, original.OutputSize);
        // Flip the prediction of the first k correctly classified rows: accuracy falls by k/300.
        Reassure.Build.Tasks.RepairedView Flipping(int k)
        {
            var flip = Enumerable.Range(0, regression.Count)
                .Where(i => Accuracy.ArgMax(original.Evaluate(regression.Rows.Inputs[i])) == regression.Rows.Labels[i])
                .Take(k).Select(i => regression.Rows.Inputs[i]).ToHashSet();
            return new RepairedView(x => flip.Contains(x) ? original.Evaluate(x).Select(v => -v).ToArray() : original.Evaluate(x), _ => true, []);
        }
        var allowOne = Defaults with { MaxAccuracyDrop = 100.0 / 300 };

        var (log1, engine1) = Log();
        Assert.IsTrue(RepairGate.Check(log1, original, Flipping(1), null, regression, allowOne).Passed, engine1.Describe());
        var (log2, engine2) = Log();
        Assert.IsFalse(RepairGate.Check(log2, original, Flipping(2), null, regression, allowOne).Passed);
        Assert.AreEqual("RSR2002", engine2.Errors.Single().Code);
    }

    private static (TaskLoggingHelper Log, FakeBuildEngine Engine) Log()
    {
        var engine = new FakeBuildEngine();
        var task = new RepairModel { BuildEngine = engine };
        return (new TaskLoggingHelper(task) { TaskResources = Resources.ResourceManager }, engine);
    }
}
