<#
.SYNOPSIS
    Runs one Pester suite (a *.Tests.ps1 file) against a staged SyncPool module.
.DESCRIPTION
    Called by the Test task (build.cs), once per suite, in a fresh pwsh process
    that the task kills if it exceeds the suite's time limit. Results go to an
    NUnit XML file, which is what the task counts. The process exits 0 only
    when every test passed and no container (BeforeAll, discovery) failed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestPath,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
# Plain text: failure messages go into the XML, where escape sequences are not allowed.
$PSStyle.OutputRendering = 'PlainText'
Import-Module $PesterPath -MinimumVersion 5.0 -Force
$env:SYNCPOOL_MODULE_PATH = (Resolve-Path $ModulePath).Path

$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
$result = Invoke-Pester -Configuration $config

# A failure outside any It (discovery, BeforeAll/AfterAll) is not a test case in the XML: say so, and fail.
$outside = $result.FailedBlocksCount + $result.FailedContainersCount
if ($outside -gt 0) { "Pester: $($result.FailedBlocksCount) block(s) and $($result.FailedContainersCount) container(s) failed outside any test." }
exit ([int]($result.FailedCount -gt 0 -or $outside -gt 0 -or $result.Result -ne 'Passed'))
