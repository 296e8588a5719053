namespace Reassure.Reports.Tests;

[TestClass]
public sealed class ChangeHistogramTests
{
    [TestMethod]
    public void ZerosApart_NonZeroByDecade()
    {
        var h = ChangeHistogram.Of([0, 0, 0, 1e-7, 5e-7, 0.02, 0.099, 3]);
        Assert.AreEqual(3, h.Zero);
        Assert.AreEqual(-7, h.FirstDecade);
        CollectionAssert.AreEqual(new[] { 2, 0, 0, 0, 0, 2, 0, 1 }, h.Decades);
        Assert.AreEqual("1e-7", h.Label(0));
        Assert.AreEqual("1e0", h.Label(7));
    }

    [TestMethod]
    public void AllZero_NoDecades()
    {
        var h = ChangeHistogram.Of([0, 0]);
        Assert.AreEqual(2, h.Zero);
        Assert.IsEmpty(h.Decades);
    }

    [TestMethod]
    public void SvgScope_PrefixesIdsAndReferences()
    {
        var svg = SvgScope.Inline("<?xml version=\"1.0\"?>\n<svg><clipPath id=\"c1\"/><g clip-path=\"url(#c1)\"/><use xlink:href=\"#c1\"/></svg>", "a-");
        Assert.AreEqual("<svg><clipPath id=\"a-0\"/><g clip-path=\"url(#a-0)\"/><use xlink:href=\"#a-0\"/></svg>", svg);
    }
}
