using Reassure.Patching;

namespace Reassure.Tests.Patching;

/// <summary>The box part of a support (feature-space repair, method.md §13), by hand.</summary>
[TestClass]
public sealed class SupportBoxTests
{
    // |x_i| <= 0.1 in 2-D, violations in units of 1 (scale 1), gamma 10: the deficit is sum_i min(10 max(|x_i| - 0.1, 0), 1).
    private static Support Box() => new(null, [], 10, Support.DefaultDeadZone, new SupportBox([0.0, 0.0], [0.1, 0.1], [1.0, 1.0]));

    [TestMethod]
    [DataRow(0.05, 0.0, 1.0)]                  // inside
    [DataRow(0.1, -0.1, 1.0)]                  // on the corner: closed
    [DataRow(0.15, 0.0, 0.5 / 0.9375)]         // D = 10 * 0.05 = 0.5
    [DataRow(0.13, -0.13, 0.4 / 0.9375)]       // D = 0.3 + 0.3
    [DataRow(0.2, 0.0, 0.0)]                   // D = 1: off
    [DataRow(-5.0, 0.0, 0.0)]
    public void Gate_IsOneOnTheBox_ThenFallsWithTheScaledViolations(double x1, double x2, double expected)
    {
        Assert.AreEqual(expected, Box().Gate([x1, x2], []), 1e-12);
    }

    [TestMethod]
    public void GammaToExclude_IsOneOverTheLargestScaledViolation_AndTheBoxSurvivesWithGamma()
    {
        var s = Box();
        Assert.AreEqual(1 / 0.05, s.GammaToExclude([0.15, 0.0], []), 1e-9);
        Assert.AreEqual(double.PositiveInfinity, s.GammaToExclude([0.0, 0.1], []));
        var sharper = s.WithGamma(20);
        Assert.AreSame(s.Box, sharper.Box);
        Assert.AreEqual(0.0, sharper.Gate([0.16, 0.0], []), "D = 20 * 0.06 > 1");
        Assert.IsGreaterThan(0.0, s.Gate([0.16, 0.0], []), "D = 10 * 0.06 < 1 at the old gamma");
        Assert.AreEqual(4 + 0, s.RowCount, "2n rows of the box");
    }

    [TestMethod]
    public void Scale_MeasuresEachDimensionInItsOwnUnit_ZeroScaleIgnoresTheDimension()
    {
        var s = new Support(null, [], 1, Support.DefaultDeadZone, new SupportBox([0.0, 0.0], [1.0, 0.0], [0.5, 0.0]));
        Assert.AreEqual(1.0, s.Gate([0.0, 123.0], []), "scale 0: the dimension does not gate");
        Assert.AreEqual((1 - 0.5) / 0.9375, s.Gate([2.0, 0.0], []), 1e-12); // 0.5 * (2 - 1)
    }
}
