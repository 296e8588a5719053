using Reassure.Regions;

namespace Reassure.Tests.Regions;

[TestClass]
public sealed class LinearRegionTests
{
    [TestMethod]
    public void AffineMapEqualsNetworkOnEveryPointOfTheRegion()
    {
        foreach (var net in new[] { TinyNetworks.TwoFourThree(), TinyNetworks.Deep() })
        {
            var x0 = new[] { 0.3, -0.4 };
            var region = new LinearRegion(net, net.Pattern(x0), TinyNetworks.Box);
            int inside = 0;
            foreach (var x in TinyNetworks.RandomPoints(2000, 7))
            {
                bool samePattern = net.Pattern(x).Equals(region.Pattern);
                Assert.AreEqual(samePattern, region.Contains(x), "Contains must agree with the pattern test");
                if (!samePattern) continue;
                inside++;
                var y = net.Evaluate(x);
                for (int o = 0; o < y.Length; o++)
                {
                    double affine = region.OutputOffset[o];
                    for (int i = 0; i < 2; i++) affine += region.OutputMatrix[o * 2 + i] * x[i];
                    Assert.AreEqual(y[o], affine, 1e-12);
                }
                foreach (var row in region.PolytopeRows()) Assert.IsTrue(row.Slack(x) >= -1e-12, $"row slack {row.Slack(x)}");
            }
            Assert.IsTrue(inside > 10, $"the sample must reach the region ({inside})");
        }
    }
}
