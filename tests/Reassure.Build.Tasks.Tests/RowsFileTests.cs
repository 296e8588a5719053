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
}
