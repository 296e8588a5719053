using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

[TestClass]
public sealed class RowsCsvTests
{
    private static ReassureException Fails(string[] lines, int width) =>
        Assert.ThrowsExactly<ReassureException>(() => RowsCsv.Parse(lines, width, "rows.csv"));

    [TestMethod]
    public void ReadsHeaderRowsAndLabels()
    {
        var rows = RowsCsv.Parse(["a,b,label", "1,2.5,0", "", "-3e2, 4 ,7"], 2, "rows.csv");
        Assert.AreEqual(2, rows.Count);
        CollectionAssert.AreEqual(new[] { -300.0, 4.0 }, rows.Inputs[1]);
        CollectionAssert.AreEqual(new[] { 0, 7 }, rows.Labels);
        var noHeader = RowsCsv.Parse(["1,2,3"], 2, "rows.csv");
        Assert.AreEqual(1, noHeader.Count);
    }

    [TestMethod]
    public void WrongWidthIsRsr1020WithLineAndCounts()
    {
        var e = Fails(["x,y,label", "1,2,0", "1,2,3,0"], 2);
        Assert.AreEqual(ErrorCodes.RowsWrongWidth, e.Code);
        StringAssert.Contains(e.Message, "line 3");
        StringAssert.Contains(e.Message, "found 4 columns; expected 3");
    }

    [TestMethod]
    public void NonNumericCellIsRsr1021WithLineColumnAndText()
    {
        var e = Fails(["1,2,0", "1,x7,0"], 2);
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, e.Code);
        StringAssert.Contains(e.Message, "line 2, column 2");
        StringAssert.Contains(e.Message, "'x7'");
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, Fails(["1,2,0", "1,NaN,0"], 2).Code);
    }

    [TestMethod]
    public void BadLabelsAreRsr1022AndNoRowsIsRsr1023()
    {
        Assert.AreEqual(ErrorCodes.RowsBadLabel, Fails(["1,2,0.5"], 2).Code);
        Assert.AreEqual(ErrorCodes.RowsBadLabel, Fails(["1,2,-1"], 2).Code);
        Assert.AreEqual(ErrorCodes.RowsEmpty, Fails(["x,y,label", ""], 2).Code);
    }

    [TestMethod]
    public void WriteThenReadRoundTripsExactly()
    {
        var rng = new Random(4);
        var set = new RowSet(Enumerable.Range(0, 20).Select(_ => new[] { rng.NextDouble(), -rng.NextDouble() * 1e-7, 1e10 * rng.NextDouble() }).ToArray(),
            Enumerable.Range(0, 20).Select(i => i % 5).ToArray(), "mem");
        var dir = Directory.CreateTempSubdirectory("reassure-rows-");
        try
        {
            var path = Path.Combine(dir.FullName, "rows.csv");
            RowsCsv.Write(path, set);
            var back = RowsCsv.Read(path, 3);
            Assert.AreEqual("rows.csv", back.Source);
            CollectionAssert.AreEqual(set.Labels, back.Labels);
            for (int r = 0; r < 20; r++) CollectionAssert.AreEqual(set.Inputs[r], back.Inputs[r]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void StagedCsvFilesRead()
    {
        var wm = RowsCsv.Read(TestData.File("models", "watermark.csv"), 784);
        Assert.AreEqual(100, wm.Count);
        Assert.AreEqual(19, wm.Labels.Count(l => l == 3));
        var cex = RowsCsv.ReadInputs(TestData.File("models", "hcas-cex-pra1-tau05.csv"), 3);
        Assert.HasCount(50, cex);
        Assert.AreEqual(3333.0, cex[0][0]);
        Assert.AreEqual(-1.9520427, cex[0][2]); // parsed as double; the 9 digits round to the float32 of the source
        Assert.AreEqual(-1.9520427f, (float)cex[0][2]);
    }
}
