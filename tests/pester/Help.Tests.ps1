# Pester 5 suite for the help users read: Get-Help on every cmdlet of the
# staged module (the MAML build.cs writes from module/help/*.json) and the
# about_SyncPool topic. The examples themselves run in Examples.Tests.ps1.

BeforeDiscovery {
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force
    $cmdlets = @(Get-Command -Module SyncPool -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    # The parameter names of one syntax line of Get-Help, or of one parameter set of Get-Command, as a sorted string.
    function Get-ParameterList($names) { (@($names | Where-Object { $_ -notin $common }) | Sort-Object) -join ' ' }
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }
    BeforeEach { Register-CurrentTest }

    It 'has a synopsis, a description and examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\S+-\S+\s*\[' -Because 'a synopsis generated from the syntax means the MAML was not found'
        ($help.description.Text -join "`n").Length | Should -BeGreaterThan 80
        @($help.examples.example).Count | Should -BeGreaterThan 0
        foreach ($example in $help.examples.example) { $example.code | Should -Not -BeNullOrEmpty }
    }

    # Sets that differ only in positions (Export-SyncTable's table-first form) share one line.
    It 'has one syntax line per parameter set, each with the parameters of that set' {
        $fromHelp = @($help.syntax.syntaxItem | ForEach-Object { Get-ParameterList $_.parameter.name }) | Sort-Object
        $fromCommand = @($command.ParameterSets | ForEach-Object { Get-ParameterList $_.Parameters.Name }) | Sort-Object -Unique
        $fromHelp | Should -Be $fromCommand
    }

    It 'describes every parameter with the way it binds' {
        foreach ($parameter in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $documented = @($help.parameters.parameter | Where-Object name -EQ $parameter.Name)
            $documented.Count | Should -Be 1 -Because "-$($parameter.Name) is documented once"
            ($documented[0].description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) has a description"
            $byValue = @($parameter.ParameterSets.Values | Where-Object ValueFromPipeline).Count -gt 0
            $byName = @($parameter.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
            $documented[0].pipelineInput -match 'true' | Should -Be ($byValue -or $byName) -Because "-$($parameter.Name)'s pipeline input is stated as it binds"
            if ($byValue) { $documented[0].pipelineInput | Should -Match 'ByValue' }
            if ($byName) { $documented[0].pipelineInput | Should -Match 'ByPropertyName' }
            foreach ($alias in $parameter.Aliases) {
                $documented[0].aliases | Should -Match ([regex]::Escape($alias)) -Because "alias $alias of -$($parameter.Name) is listed"
            }
        }
    }

    It 'states its inputs and outputs and links to related help' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        @($help.returnValues.returnValue).Count | Should -BeGreaterThan 0
        foreach ($type in @($help.inputTypes.inputType.type.name) + @($help.returnValues.returnValue.type.name)) {
            $type | Should -Not -BeNullOrEmpty
        }
        @($help.relatedLinks.navigationLink.linkText) | Should -Contain 'about_SyncPool'
    }
}

Describe 'about_SyncPool' {
    BeforeEach { Register-CurrentTest }

    It 'is found by Get-Help and names every cmdlet' {
        $about = Get-Help about_SyncPool | Out-String
        $about | Should -Match 'SHORT DESCRIPTION'
        foreach ($name in (Get-Command -Module SyncPool -CommandType Cmdlet).Name) {
            $about | Should -Match ([regex]::Escape($name))
        }
    }

    It 'is listed by a wildcard search for the module''s topics' {
        @(Get-Help about_Sync* | Where-Object Name -EQ 'about_SyncPool').Count | Should -Be 1
    }
}
