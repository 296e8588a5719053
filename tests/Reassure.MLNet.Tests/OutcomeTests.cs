using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;

namespace Reassure.MLNet.Tests;

/// <summary>The estimator reads Core's one answer to "is this row fixed?": an RSR3006 row (its patch failed the independent check) is not fixed.</summary>
[TestClass]
public sealed class OutcomeTests
{
    private static RepairResult WithCheckFailed()
    {
        var net = new Network([new DenseLayer(1, 2, [1, -1], [0, 0], relu: false)]);
        var repaired = new RepairedNetwork(net, InputBox.Uniform(1, 0, 1), []);
        var inputs = new[]
        {
            new InputStatus(0, "row 3", Fixed: true, FixedFloat32: true, Patch: 0),
            new InputStatus(1, "row 7", Fixed: true, FixedFloat32: true, Patch: 1, ErrorCodes.PatchCheckFailed, "did not pass the independent LP check"),
        };
        var timings = new RepairTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0);
        return new RepairResult(repaired, inputs, [], timings);
    }

    [TestMethod]
    public void RequireAllFixed_RSR3006Row_IsRSR2001_NamingTheRow()
    {
        var e = Assert.ThrowsExactly<ReassureException>(() => RepairEstimator.EnsureAllFixed(WithCheckFailed(), "Label"));
        Assert.AreEqual(ErrorCodes.GateNotFixed, e.Code);
        StringAssert.Contains(e.Message, "1 of 2 buggy rows are not fixed");
        StringAssert.Contains(e.Message, "row 7: RSR3006");
    }

    [TestMethod]
    public void FitReport_ListsTheRSR3006RowAsUnfixed()
    {
        var rows = RepairEstimator.UnfixedRows(WithCheckFailed(), [30, 70]);
        Assert.AreEqual(1, rows.Count);
        Assert.AreEqual(70, rows[0].Row);
        Assert.AreEqual(ErrorCodes.PatchCheckFailed, rows[0].ErrorCode);
    }
}
