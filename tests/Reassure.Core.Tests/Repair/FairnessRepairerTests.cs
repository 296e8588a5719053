using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Verification;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

[TestClass]
public sealed class FairnessRepairerTests
{
    // x0 is the sensitive feature, x1 another one, both in [0, 1]. h = (relu(x0 - 0.5), relu(x1)); y0 = h1, y1 = 2 h0 + 0.25.
    // Along x0 the score y1 rises from 0.25 (x0 <= 0.5) to 1.25 (x0 = 1), so a row with 0.25 < x1 < 1.25 and x0 small
    // is decided 0 at the row and 1 for a large x0: unfair. A row with x1 < 0.25 is decided 1 for every x0: fair.
    private static Network Net() => new(
    [
        new DenseLayer(2, 2, [1, 0, 0, 1], [-0.5, 0], relu: true),
        new DenseLayer(2, 2, [0, 1, 2, 0], [0, 0.25], relu: false),
    ], domain: InputBox.Uniform(2, 0, 1));

    private static readonly double[][] RowInputs = [[0.2, 0.5], [0.2, 0.1], [0.9, 0.2], [0.0, 0.9]];

    private static RowSet Rows(int[] labels) => new(RowInputs.Select(r => r.ToArray()).ToArray(), labels, "tiny rows");

    private static FairnessOptions Options(bool toLabel = false) => new() { Sensitive = [0], ToLabel = toLabel };

    [TestMethod]
    public void UnfairRowsAreFoundExactly()
    {
        var m = FairnessRepairer.Measure(Net(), Rows([0, 1, 1, 0]), Options());
        CollectionAssert.AreEqual(new[] { 0, 3 }, m.UnfairRows.ToArray());
        Assert.AreEqual(0, m.Unknown);
        Assert.AreEqual(4, m.Correct);
    }

    [TestMethod]
    public void RepairMakesEveryRowFair_Proved_AndLeavesTheRestAlone()
    {
        var net = Net();
        var rows = Rows([0, 1, 1, 0]);
        var r = FairnessRepairer.Repair(net, rows, Options());
        Assert.AreEqual(2, r.Before.Unfair);
        Assert.AreEqual(0, r.After.Unfair);
        Assert.AreEqual(0, r.After.Unknown);
        Assert.IsTrue(r.Proved, string.Join("; ", r.Errors));
        Assert.AreEqual(VerificationStatus.Holds, r.Area!.After.Status);
        Assert.IsGreaterThan(0, r.Patches);
        Assert.AreEqual(1.0, r.After.Accuracy);

        // The decision at the row, now for every value of the sensitive feature (dense check beside the proof).
        foreach (int row in new[] { 0, 3 })
            for (int k = 0; k <= 1000; k++)
            {
                var x = new[] { k / 1000.0, RowInputs[row][1] };
                Assert.AreEqual(0, TinyNetworks.ArgMax(r.Repaired.Evaluate(x)), $"row {row} at x0 = {x[0]}");
            }

        // Locality: the fair rows, and every point away from the repaired segments (x1 = 0.5, x1 = 0.9), keep their
        // outputs bit for bit (outside every support).
        foreach (var x in new[] { RowInputs[1], RowInputs[2] })
            CollectionAssert.AreEqual(net.Evaluate(x), r.Repaired.Evaluate(x));
        int checkedPoints = 0;
        foreach (var x in TinyNetworks.RandomPoints(2000, 5, InputBox.Uniform(2, 0, 1)))
        {
            if (Math.Abs(x[1] - 0.5) < 0.01 || Math.Abs(x[1] - 0.9) < 0.01) continue;
            var y = r.Repaired.Evaluate(x, out var gates);
            Assert.IsTrue(gates.All(g => g == 0), $"support on at ({x[0]}, {x[1]})");
            CollectionAssert.AreEqual(net.Evaluate(x), y);
            checkedPoints++;
        }
        Assert.IsGreaterThan(1800, checkedPoints);
    }

    [TestMethod]
    public void ToLabel_RequiresTheLabel_OnTheUnfairRowsOnly()
    {
        // Row 0's label is 1: with --to-label its whole segment must be decided 1, which also fixes its accuracy. Row 1 is
        // misclassified (label 0, decided 1 for every x0) but fair: it is not repaired and keeps its output.
        var net = Net();
        var rows = Rows([1, 0, 1, 0]);
        var r = FairnessRepairer.Repair(net, rows, Options(toLabel: true));
        Assert.AreEqual(2, r.Before.Correct);
        CollectionAssert.AreEqual(new[] { 0, 3 }, r.Before.UnfairRows.ToArray());
        Assert.AreEqual(0, r.After.Unfair);
        Assert.IsTrue(r.Proved, string.Join("; ", r.Errors));
        Assert.AreEqual(3, r.After.Correct);
        for (int k = 0; k <= 100; k++)
            Assert.AreEqual(1, TinyNetworks.ArgMax(r.Repaired.Evaluate([k / 100.0, 0.5])));
        CollectionAssert.AreEqual(net.Evaluate(RowInputs[1]), r.Repaired.Evaluate(RowInputs[1]));
    }

    [TestMethod]
    public void FairRows_NothingToRepair()
    {
        var rows = new RowSet([[0.2, 0.1], [0.9, 0.2]], [1, 1], "fair rows");
        var r = FairnessRepairer.Repair(Net(), rows, Options());
        Assert.AreEqual(0, r.Before.Unfair);
        Assert.AreEqual(0, r.Patches);
        Assert.IsTrue(r.Proved);
    }

    [TestMethod]
    public void BadSensitiveIndexAndDomain_AreCoded()
    {
        var rows = Rows([0, 1, 1, 0]);
        Assert.AreEqual(ErrorCodes.BadSensitiveFeature,
            Assert.ThrowsExactly<ReassureException>(() => FairnessRepairer.Repair(Net(), rows, new FairnessOptions { Sensitive = [2] })).Code);
        Assert.AreEqual(ErrorCodes.BadSensitiveFeature,
            Assert.ThrowsExactly<ReassureException>(() => FairnessRepairer.Repair(Net(), rows, new FairnessOptions { Sensitive = [0, 0] })).Code);
        Assert.AreEqual(ErrorCodes.BadSensitiveDomain,
            Assert.ThrowsExactly<ReassureException>(() => FairnessRepairer.Repair(Net(), rows, new FairnessOptions { Sensitive = [0], Domain = [(1, 0)] })).Code);
        Assert.AreEqual(ErrorCodes.BadSensitiveDomain,
            Assert.ThrowsExactly<ReassureException>(() => FairnessRepairer.Repair(Net(), rows, new FairnessOptions { Sensitive = [0], Domain = [(0, 1), (0, 1)] })).Code);
    }
}
