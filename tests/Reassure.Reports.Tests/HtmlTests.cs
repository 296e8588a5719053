namespace Reassure.Reports.Tests;

[TestClass]
public sealed class HtmlTests
{
    [TestMethod]
    public void Numbers_InvariantFourDigits_ExponentForExtremes()
    {
        Assert.AreEqual("0.7567", Html.Number(0.75671234));
        Assert.AreEqual("1e8", Html.Number(1e8));
        Assert.AreEqual("2.5e-5", Html.Number(2.5e-5));
        Assert.AreEqual("0", Html.Number(0.0));
        Assert.AreEqual("n/a", Html.Number(double.NaN));
        Assert.AreEqual("98.57 %", Html.Percent(966.0 / 980));
        Assert.AreEqual("1.500 s", Html.Seconds(1.5));
    }

    [TestMethod]
    public void Text_EscapesMarkupAndQuotes()
    {
        Assert.AreEqual("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&lt;/a&gt;", Html.Text("<a href=\"x\">'&</a>"));
        Assert.AreEqual("", Html.Text(null));
    }
}
