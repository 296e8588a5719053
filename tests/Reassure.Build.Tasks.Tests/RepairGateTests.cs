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
                .Where(i => Reassure.Repair.Prediction.Of(original.Evaluate(regression.Rows.Inputs[i])) == regression.Rows.Labels[i])
                .Take(k).Select(i => regression.Rows.Inputs[i]).ToHashSet();
            return new RepairedView(x => flip.Contains(x) ? original.Evaluate(x).Select(v => -v).ToArray() : original.Evaluate(x), _ => true, []);
        }
        var allowOne = Defaults with { MaxAccuracyDrop = 100.0 / 300 };

        var (log1, engine1) = Log();
        Assert.IsTrue(RepairGate.Check(log1, original, Flipping(1), null, regression, allowOne).Passed, engine1.Describe());
        var (log2, engine2) = Log();
        Assert.IsFalse(RepairGate.Check(log2, original, Flipping(2), null, regression, allowOne, "out/m.report.md").Passed);
        var error = engine2.Errors.Single();
        Assert.AreEqual("RSR2002", error.Code);
        // The message helps: which rows regressed (file lines), how many in a support, the usual fix, where the report is.
        var flipped = Enumerable.Range(0, regression.Count)
            .Where(i => Reassure.Repair.Prediction.Of(original.Evaluate(regression.Rows.Inputs[i])) == regression.Rows.Labels[i]).Take(2).ToList();
        StringAssert.Contains(error.Message, $"Rows that regressed: line {regression.Lines[flipped[0]]}, line {regression.Lines[flipped[1]]} (2 of 2 inside a patch support)");
        StringAssert.Contains(error.Message, "raise ReassureGamma (now 1)");
        StringAssert.Contains(error.Message, "out/m.report.md");
    }

    private static (TaskLoggingHelper Log, FakeBuildEngine Engine) Log()
    {
        var engine = new FakeBuildEngine();
        var task = new RepairModel { BuildEngine = engine };
        return (new TaskLoggingHelper(task) { TaskResources = Resources.ResourceManager }, engine);
    }
}

/// <summary>The gate and the Markdown report read Core's one answer to "is this row fixed?".</summary>
[TestClass]
public sealed class GateOutcomeTests
{
    [TestMethod]
    public void RowWhosePatchFailedItsCheck_RSR3006_FailsTheGateWithRSR2001_AndIsListedUnfixed()
    {
        using var f = new Fixture();
        var original = OnnxImporter.Load(f.Model).Network;
        var buggy = RowsFile.Read(f.Buggy, 2, original.OutputSize);
        // Every buggy row meets its label, but the first one's patch did not pass the independent check.
        var statuses = Enumerable.Range(0, buggy.Count).Select(r => r == 0
            ? new InputStatus(r, buggy.Name(r), true, true, r, ErrorCodes.PatchCheckFailed, "did not pass the independent LP check")
            : new InputStatus(r, buggy.Name(r), true, true, r)).ToList();
        var view = new RepairedView(x => original.Evaluate(x), _ => true, statuses);
        var engine = new FakeBuildEngine();
        var task = new RepairModel { BuildEngine = engine };
        var log = new TaskLoggingHelper(task) { TaskResources = Resources.ResourceManager };

        var figures = RepairGate.Check(log, original, view, buggy, null, new GateSettings(0, null, PatchMode.Fast, null));

        Assert.IsFalse(figures.Passed);
        Assert.AreEqual(buggy.Count - 1, figures.FixedRows);
        var error = engine.Errors.Single(e => e.Code == ErrorCodes.GateNotFixed);
        StringAssert.Contains(error.Message, "RSR3006");
        Assert.AreEqual(buggy.Lines[0], error.LineNumber);

        var result = new RepairResult(new Reassure.Patching.RepairedNetwork(original, Reassure.Networks.InputBox.Uniform(original.InputSize, -1e6, 1e6), []), statuses, [],
            new RepairTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0));
        var md = MarkdownReport.Build("m.onnx", result, figures, new GateSettings(0, null, PatchMode.Fast, null), buggy, null);
        StringAssert.Contains(md, "RSR3006");
    }
}
