using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.MLNet;

/// <summary>
/// Options of <see cref="RepairEstimator"/> (compare ML.NET's <c>OnnxOptions</c>). Named so that it does not clash with
/// the engine's <see cref="Reassure.Repair.RepairOptions"/>, to which it is translated.
/// </summary>
public sealed class RepairEstimatorOptions
{
    /// <summary>Path of the ONNX model to repair (a feed-forward ReLU network). Either this or <see cref="ModelBytes"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The ONNX model as bytes. Either this or <see cref="ModelPath"/>.</summary>
    public byte[]? ModelBytes { get; set; }

    /// <summary>Input column: a known-size vector of <see cref="float"/> whose size equals the model input.</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>Label column (read by <c>Fit</c> only): a key (class = key - 1) or an integer type (class = value).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// Optional Boolean column that marks the rows to repair. When null, the buggy rows are the rows the model gets
    /// wrong (argmax differs from the label in double or in float32).
    /// </summary>
    public string? BuggyColumnName { get; set; }

    /// <summary>Output column of the repaired scores (vector of <see cref="float"/>, one per model output).</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Output column of the predicted label (argmax of the scores, typed like the label column).</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>By how much the label must win after repair (keeps the fix sound after float32 rounding).</summary>
    public double Margin { get; set; } = 1e-3;

    /// <summary>Fast (default) or minimal patches.</summary>
    public PatchMode Mode { get; set; } = PatchMode.Fast;

    /// <summary>
    /// How every patch is checked over its region: <c>Certificate</c> (default: the build's LP multipliers and early stops,
    /// no LP), <c>CertificateAndLp</c> (the rows the build stopped early on solved again in a fresh solver), <c>Layered</c>
    /// or <c>Polytope</c> (every row by LP).
    /// </summary>
    public Reassure.Patching.PatchVerifier.CheckFormulation Check { get; set; } = Reassure.Patching.PatchVerifier.CheckFormulation.Certificate;

    /// <summary>
    /// Region LP solver: <c>Auto</c> (default: the input-space dual simplex, whose answers are kept only with a checked
    /// certificate, GLOP otherwise) or <c>Glop</c> (GLOP only).
    /// </summary>
    public Reassure.Lp.RegionLpEngine LpEngine { get; set; } = Reassure.Lp.RegionLpEngine.Auto;

    /// <summary>Stop after this many patches; the remaining rows are reported unfixed.</summary>
    public int? MaxPatches { get; set; }

    /// <summary>Time budget of the engine; when hit the remaining rows are reported unfixed.</summary>
    public TimeSpan? MaxTime { get; set; }

    /// <summary>Threads of the engine; null uses the engine's default (all cores).</summary>
    public int? MaxDegreeOfParallelism { get; set; }

    /// <summary>
    /// Backdoor / watermark removal (method.md §10): the label column holds the label each row must NOT get. The rows the
    /// model gives that label (or the rows <see cref="BuggyColumnName"/> marks) are repaired to "target t wins", t chosen
    /// by <see cref="AvoidTarget"/>. The fit report's accuracy then counts the rows that avoid their label.
    /// </summary>
    public bool Avoid { get; set; }

    /// <summary>How the target is chosen under <see cref="Avoid"/>: Previous (k - 1, m - 1 for 0; REASSURE's watermark experiment) or BestOther.</summary>
    public AvoidTargetRule AvoidTarget { get; set; } = AvoidTargetRule.Previous;

    /// <summary>
    /// Counterfactual-fairness repair (method.md §11): the 0-based feature indices whose value must not change the
    /// decision. When set, <c>Fit</c> verifies every row over its counterfactual box (these features free over [0, 1], the
    /// others fixed), repairs the unfair rows so that their decision holds on the whole box, and proves it; the fit
    /// report's buggy rows are the unfair rows. Null (default): point repair of the rows the model gets wrong.
    /// </summary>
    public IReadOnlyList<int>? SensitiveFeatures { get; set; }

    /// <summary>Under <see cref="SensitiveFeatures"/>: repair an unfair row to its label instead of to the model's decision at the row.</summary>
    public bool FairnessToLabel { get; set; }

    /// <summary>
    /// Feature-space repair (method.md §13) at this ONNX tensor (the names <c>reassure inspect</c> lists): the layers before
    /// it are a fixed feature map, the rows are mapped through them, and regions, patches and proofs are those of the
    /// layers after it over a box of features; the patch network is attached after the tensor. Null (default): repair in
    /// input space.
    /// </summary>
    public string? Layer { get; set; }

    /// <summary>
    /// Under <see cref="Layer"/>: the lower end of the feature box (every feature), with <see cref="FeatureBoxUpper"/>.
    /// Null (default, both): sound bounds of the layers before the tensor over the input domain.
    /// </summary>
    public double? FeatureBoxLower { get; set; }

    /// <summary>Under <see cref="Layer"/>: the upper end of the feature box (every feature), with <see cref="FeatureBoxLower"/>.</summary>
    public double? FeatureBoxUpper { get; set; }

    /// <summary>Throw (RSR2001) from <c>Fit</c> when a buggy row is left unfixed. Off by default: read <see cref="RepairTransformer.Report"/>.</summary>
    public bool RequireAllFixed { get; set; }

    /// <summary>
    /// CUDA device on which the fitted transformer runs the repaired graph (ML.NET's <c>OnnxTransformer</c> with
    /// ONNX Runtime's CUDAExecutionProvider); null (default) runs on the CPU, or on <c>MLContext.GpuDeviceId</c> when that
    /// is set, as ML.NET does. The app must reference <c>Microsoft.ML.OnnxRuntime.Gpu</c> (the version of the
    /// <c>Microsoft.ML.OnnxRuntime</c> Reassure.MLNet depends on) and have CUDA and cuDNN. The repair's own float32
    /// checks stay on the CPU. Without the provider: see <see cref="FallbackToCpu"/>.
    /// </summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>
    /// When the CUDA provider of <see cref="GpuDeviceId"/> cannot be had: true runs on the CPU and says so once in
    /// <see cref="RepairFitReport.Warnings"/>; false (default) makes <c>Fit</c> throw RSR1080, before the repair starts.
    /// </summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>Receives the engine's progress.</summary>
    public IProgress<RepairProgress>? Progress { get; set; }

    /// <summary>Cancels <c>Fit</c>.</summary>
    public CancellationToken CancellationToken { get; set; }

    internal RepairEstimatorOptions Clone() => (RepairEstimatorOptions)MemberwiseClone();
}
