namespace Reassure.MLNet.Tests;

[TestClass]
public sealed class AssemblyLoadsTests
{
    [TestMethod]
    public void ProjectAssemblyLoads()
    {
        var asm = typeof(Reassure.ErrorCodes).Assembly;
        Assert.AreEqual("Reassure.Core", asm.GetName().Name);
    }
}
