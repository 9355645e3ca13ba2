
      export interface PossibleTypesResultData {
        possibleTypes: {
          [key: string]: string[]
        }
      }
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "LoginResult": [
      "AuthPayload",
      "MfaChallenge"
    ]
  }
};
      export default result;
    