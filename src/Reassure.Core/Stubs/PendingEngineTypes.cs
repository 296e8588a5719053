// PLACEHOLDERS so that the `formats` branch builds on its own. `Repair/RepairResult.cs` (API-contract commit f40efca)
// names `Reassure.Patching.RepairedNetwork` and `Reassure.Repair.Repairer.Repair`, which the engine branch adds.
// Delete this whole file when merging with the branch that defines the real types.

namespace Reassure.Patching
{
    /// <summary>Placeholder for the engine's repaired network (see the file comment).</summary>
    public sealed class RepairedNetwork
    {
    }
}

namespace Reassure.Repair
{
    /// <summary>Placeholder for the engine's repairer (see the file comment).</summary>
    public sealed class Repairer
    {
        /// <summary>Not implemented on this branch.</summary>
        public RepairResult Repair() => throw new NotSupportedException("The repair engine is not on the formats branch.");
    }
}
