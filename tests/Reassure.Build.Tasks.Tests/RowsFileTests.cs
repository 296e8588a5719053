namespace Reassure.Build.Tasks.Tests;

[TestClass]
public sealed class RowsFileTests
{
    [TestMethod]
    public void Lines_SkipHeaderAndBlankLines()
    {
        using var f = new Fixture();
        var rows = RowsFile.Read(f.Write("rows.csv", "a,b,label\n\n0,1,2\n   \n1,0,1\n"), 2, 3);
        CollectionAssert.AreEqual(new[] { 3, 5 }, rows.Lines);
        Assert.AreEqual("rows.csv line 5", rows.Name(1));
    }

    [TestMethod]
    public void Lines_WithoutHeader_StartAtTheFirstLine()
    {
        using var f = new Fixture();
        var rows = RowsFile.Read(f.Write("rows.csv", "0,1,2\n1,0,1\n"), 2, 3);
        CollectionAssert.AreEqual(new[] { 1, 2 }, rows.Lines);
    }

    [TestMethod]
    public void LabelsAreCheckedAgainstTheOutputsLikeTheCli()
    {
        using var f = new Fixture();
        var e = Assert.ThrowsExactly<ReassureException>(() => RowsFile.Read(f.Write("rows.csv", "a,b,label\n0,1,2\n1,0,3\n"), 2, 3));
        Assert.AreEqual(ErrorCodes.RowsBadLabel, e.Code);
        StringAssert.Contains(e.Message, "rows.csv, line 3, column 3");
    }

    [TestMethod]
    public void AFirstLineWithABadCellIsAnError()
    {
        using var f = new Fixture();
        var e = Assert.ThrowsExactly<ReassureException>(() => RowsFile.Read(f.Write("rows.csv", "0,NaN,2\n1,0,1\n"), 2, 3));
        Assert.AreEqual(ErrorCodes.RowsNotNumeric, e.Code);
    }
}
