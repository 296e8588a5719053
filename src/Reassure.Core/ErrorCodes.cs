namespace Reassure;

/// <summary>
/// The stable error codes of the project. RSR1xxx: bad input (file, node, row); RSR2xxx: gate failures;
/// RSR3xxx: internal limits (budget hit, solver status). The README holds the same table.
/// </summary>
public static class ErrorCodes
{
    /// <summary>A file is missing or cannot be read.</summary>
    public const string FileUnreadable = "RSR1001";
    /// <summary>ONNX bytes are not a valid protobuf ModelProto (e.g. truncated).</summary>
    public const string OnnxMalformed = "RSR1002";
    /// <summary>An ONNX operator the engine cannot represent exactly.</summary>
    public const string OnnxUnsupportedOperator = "RSR1003";
    /// <summary>An ONNX graph whose structure is not a feed-forward ReLU network (attributes, shapes, non-constant operands).</summary>
    public const string OnnxUnsupportedGraph = "RSR1004";
    /// <summary>An ONNX tensor with an unsupported data type or missing data.</summary>
    public const string OnnxBadTensor = "RSR1005";
    /// <summary>
    /// A repaired ONNX file whose graph and repair metadata disagree: the patch nodes the graph runs are not the patch
    /// network the metadata describes (tampered, or edited by another tool), or one of the two is missing.
    /// </summary>
    public const string RepairedGraphMismatch = "RSR1006";
    /// <summary>An operation a repaired model does not support yet (e.g. area repair of a repaired model whose property fails).</summary>
    public const string RepairedModelUnsupported = "RSR1009";
    /// <summary>An ONNX tensor (initializer or Constant node) holding NaN or an infinity; the message names the tensor and the element index.</summary>
    public const string OnnxNonFinite = "RSR1007";
    /// <summary>ONNX Runtime cannot load or run the model (unsupported opset, wrong input shape); the message carries the runtime's text.</summary>
    public const string OnnxRuntimeFailed = "RSR1008";
    /// <summary>
    /// A network with a MaxPool was asked for something that has no exact treatment of the winners of its windows
    /// (proof of a VNN-LIB property, region enumeration, localization, a feature split at a pooled tensor, regions of a
    /// network with more than one hidden layer): max pooling is piecewise linear (the winner of each window is part of
    /// the region); point repair carries the winners exactly (method.md §12); nothing is approximated.
    /// </summary>
    public const string MaxPoolNotAnalysable = "RSR1015";
    /// <summary>An NNet file that does not follow the format.</summary>
    public const string NNetMalformed = "RSR1010";
    /// <summary>A rows CSV line with the wrong number of columns.</summary>
    public const string RowsWrongWidth = "RSR1020";
    /// <summary>A rows CSV cell that is not a number.</summary>
    public const string RowsNotNumeric = "RSR1021";
    /// <summary>A rows CSV label that is not an integer output index.</summary>
    public const string RowsBadLabel = "RSR1022";
    /// <summary>A rows CSV with no rows.</summary>
    public const string RowsEmpty = "RSR1023";
    /// <summary>An MNIST idx file that does not follow the format.</summary>
    public const string IdxMalformed = "RSR1030";
    /// <summary>A VNN-LIB file that cannot be read.</summary>
    public const string VnnLibMalformed = "RSR1040";
    /// <summary>A VNN-LIB expression nested deeper than <see cref="Formats.VnnLib.VnnLibReader.MaxDepth"/>.</summary>
    public const string VnnLibTooDeep = "RSR1041";
    /// <summary>A VNN-LIB formula whose disjunctive normal form would exceed <see cref="Formats.VnnLib.VnnLibReader.MaxDisjuncts"/> conjunctions (or the expansion size caps), counted before expanding.</summary>
    public const string VnnLibTooManyDisjuncts = "RSR1042";
    /// <summary>A VNN-LIB variable index X_i / Y_j at or above <see cref="Formats.VnnLib.VnnLibReader.MaxVariables"/>.</summary>
    public const string VnnLibTooManyVariables = "RSR1043";
    /// <summary>The same input is required to meet contradicting specifications.</summary>
    public const string ConflictingRequirements = "RSR1050";
    /// <summary>A specification that does not fit the network (sizes, rank, empty interval).</summary>
    public const string BadSpecification = "RSR1051";
    /// <summary>An input outside the repair domain.</summary>
    public const string InputOutsideDomain = "RSR1052";
    /// <summary>A layer named (by ONNX tensor name or index) that is not a hidden layer of the network; the message lists the valid names.</summary>
    public const string UnknownLayer = "RSR1053";
    /// <summary>
    /// A tensor (feature-space repair, --layer) the network cannot be cut at: it is computed before any Relu, the graph after it
    /// reads a tensor from before it (a skip connection), or the network after it has no Relu and no box support applies.
    /// </summary>
    public const string FeatureSplitUnsupported = "RSR1058";
    /// <summary>A sensitive feature (fairness repair) that is not an input index of the model, repeated, or missing.</summary>
    public const string BadSensitiveFeature = "RSR1056";
    /// <summary>A sensitive feature's domain (fairness repair) that is not a finite lo:hi with lo &lt;= hi, or a count of domains that differs from the sensitive features'.</summary>
    public const string BadSensitiveDomain = "RSR1057";
    /// <summary>An option or parameter value outside its range or not a plain invariant-culture number; the message names the option, the value and the range.</summary>
    public const string InvalidOption = "RSR1060";
    /// <summary>An output path equal to another output path or to an input path (it would overwrite it).</summary>
    public const string OutputCollision = "RSR1070";
    /// <summary>An output path that cannot be written (an existing directory, a folder that cannot be created).</summary>
    public const string OutputNotWritable = "RSR1071";
    /// <summary>A repaired ONNX and its manifest that do not belong together (the manifest's onnxSha256 differs: a torn write).</summary>
    public const string TornOutputPair = "RSR1072";
    /// <summary>
    /// GPU inference asked for (<c>GpuDeviceId</c>, CLI <c>--gpu N</c>) but ONNX Runtime's CUDAExecutionProvider cannot be
    /// had on that device (the app does not reference Microsoft.ML.OnnxRuntime.Gpu, or CUDA/cuDNN or the device is
    /// missing) and falling back to the CPU is not allowed; the message names the provider, the device and the reason.
    /// </summary>
    public const string GpuProviderUnavailable = "RSR1080";
    /// <summary>Gate: a buggy row is not fixed by the repaired model.</summary>
    public const string GateNotFixed = "RSR2001";
    /// <summary>Gate: accuracy on the regression rows below the allowed level.</summary>
    public const string GateAccuracy = "RSR2002";
    /// <summary>Gate: a regression row outside every support changed its output.</summary>
    public const string GateLocality = "RSR2003";
    /// <summary>The LP solver reported an infeasible region that must be non-empty.</summary>
    public const string LpInfeasible = "RSR3001";
    /// <summary>The LP solver reported an unbounded objective on a bounded region.</summary>
    public const string LpUnbounded = "RSR3002";
    /// <summary>The LP solver stopped without an optimum (iteration limit, numerical trouble).</summary>
    public const string LpNotOptimal = "RSR3003";
    /// <summary>A time or region budget was hit.</summary>
    public const string BudgetExceeded = "RSR3004";
    /// <summary>Soundness could not be reached by raising gamma within its limit.</summary>
    public const string SoundnessNotReached = "RSR3005";
    /// <summary>A patch failed its independent LP check.</summary>
    public const string PatchCheckFailed = "RSR3006";
}
