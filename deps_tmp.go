package main
import (
 _ "github.com/spf13/cobra"
 _ "github.com/spf13/viper"
 _ "github.com/hashicorp/vault/api"
 _ "github.com/hashicorp/vault/api/auth/approle"
 _ "github.com/hashicorp/vault/api/auth/kubernetes"
 _ "github.com/aws/aws-sdk-go-v2/config"
 _ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
 _ "github.com/aws/aws-sdk-go-v2/service/sts"
 _ "github.com/aws/aws-sdk-go-v2/credentials/stscreds"
 _ "go.uber.org/goleak"
)
func main(){}
