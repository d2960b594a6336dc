"""The edit methods (refusal, text, safree, reins, uce): each fits on statistics and returns the edited tensors."""
