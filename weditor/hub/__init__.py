"""Publishing a verified folder to the Hugging Face Hub."""
